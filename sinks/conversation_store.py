"""The AI agent's conversation facts -> `agent_conversation_facts` rows; its events <- `agent_events`."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sinks.clickhouse import Warehouse, as_utc
from streams.core.agent_conversations import AgentEventStep, ConversationFacts

Key = tuple[str, str]  # (account_id, conversation_id)
FACT_COLUMNS = ("started_at", "channel", "handled", "handed_off", "handed_off_at", "ticket_id", "to_rep_id",
                "to_team_id", "resolved_by_agent", "resolved_at", "closed_at", "deflected", "resolution_s", "helpful")
COLUMNS = ("account_id", "conversation_id", *FACT_COLUMNS, "computed_at", "version")
NULLABLE = frozenset({"handed_off_at", "resolved_at", "closed_at", "resolution_s", "helpful"})
_STEP_SQL = ("SELECT account_id, conversation_id, occurred_at, event_id, type, channel, ticket_id, to_rep_id, "
             "to_team_id, helpful FROM agent_events "
             "WHERE account_id IN {accounts:Array(String)} AND conversation_id IN {ids:Array(String)}")


def conversation_row(key: Key, facts: ConversationFacts, computed_at: datetime, version: int) -> tuple:
    return (*key, *(getattr(facts, c) for c in FACT_COLUMNS), computed_at, version)


def load_steps(warehouse: Warehouse, keys: Iterable[Key]) -> dict[Key, list[AgentEventStep]]:
    """Every stored event of these conversations (any partition, any broker), as fold steps; one query."""
    keys = set(keys)
    found: dict[Key, list[AgentEventStep]] = {}
    if not keys:
        return found
    result = warehouse.query(_STEP_SQL, {"accounts": sorted({a for a, _ in keys}),
                                         "ids": sorted({c for _, c in keys})})
    for account_id, conversation_id, at, event_id, kind, channel, ticket_id, rep, team, helpful in result.result_rows:
        if (account_id, conversation_id) in keys:
            found.setdefault((account_id, conversation_id), []).append(AgentEventStep(
                as_utc(at), event_id, kind, channel=channel, ticket_id=ticket_id, to_rep_id=rep, to_team_id=team,
                helpful=helpful))
    return found
