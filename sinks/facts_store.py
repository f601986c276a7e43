"""Ticket facts -> rows of `ticket_facts`; ticket history <- the raw tables."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime

from sinks.clickhouse import Warehouse, as_utc, stored_rows
from streams.core.facts import TicketFacts
from streams.core.ticket_properties import TicketState

PROPERTY_COLUMNS = ("status", "pipeline", "owner_id", "team_id", "priority", "channel", "category")
STAGE_COLUMNS = ("stages.stage", "stages.entered_at", "stages.left_at", "stages.seconds", "stages.sla_seconds")
INTERVAL_COLUMNS = ("intervals.metric", "intervals.started_at", "intervals.ended_at", "intervals.waiting",
                    "intervals.answered_by", "intervals.channel", "intervals.first", "intervals.seconds",
                    "intervals.sla_seconds")
CLOCK_COLUMNS = ("clocks.metric", "clocks.started_at", "clocks.target_s", "clocks.due_soon_at", "clocks.due_at",
                 "clocks.stopped_at")
COLUMNS = ("account_id", "ticket_id", "created_at", *PROPERTY_COLUMNS, "deleted", "first_response_at",
           "first_responder", "time_to_first_response_s", "time_to_first_response_sla_s", "closed_at",
           "time_to_close_s", "time_to_close_sla_s", "reopen_count", "waiting_since",
           *STAGE_COLUMNS, *INTERVAL_COLUMNS, *CLOCK_COLUMNS, "computed_at", "version")
NULLABLE = frozenset({"created_at", "first_response_at", "time_to_first_response_s", "time_to_first_response_sla_s",
                      "closed_at", "time_to_close_s", "time_to_close_sla_s", "waiting_since"})


def _columns(rows: list[tuple], width: int) -> list[list]:
    return [list(c) for c in zip(*rows, strict=True)] if rows else [[] for _ in range(width)]


def facts_row(account_id: str, ticket_id: str, state: TicketState | None, facts: TicketFacts,
              computed_at: datetime, version: int) -> tuple:
    props = tuple(state.get(p) if state else "" for p in PROPERTY_COLUMNS)
    ttfr, ttc = facts.time_to_first_response, facts.time_to_close
    stages = _columns([(s.stage, s.entered_at, s.left_at, d.seconds if d else None, d.sla_seconds if d else None)
                       for s, d in facts.stages], len(STAGE_COLUMNS))
    intervals = _columns([(i.metric, i.started_at, i.ended_at, i.waiting, i.answered_by, i.channel, i.first,
                           d.seconds, d.sla_seconds) for i, d in facts.intervals], len(INTERVAL_COLUMNS))
    clocks = _columns([(c.metric, c.started_at, c.target_s, c.due_soon_at, c.due_at, c.stopped_at)
                       for c in facts.clocks], len(CLOCK_COLUMNS))
    return (account_id, ticket_id, facts.created_at, *props, bool(state and state.deleted),
            facts.first_response_at, facts.first_responder, ttfr.seconds if ttfr else None,
            ttfr.sla_seconds if ttfr else None, facts.closed_at, ttc.seconds if ttc else None,
            ttc.sla_seconds if ttc else None, facts.reopens, facts.waiting_since, *stages, *intervals, *clocks,
            computed_at, version)


# One history record: (occurred_at, event_id, partition, account_id, ticket_id, kind, fields...)
HistoryRow = tuple


def load_history(warehouse: Warehouse, source: str, partitions: Iterable[int],
                 offsets: dict[tuple[str, int], int]) -> Iterator[HistoryRow]:
    """Ticket and message events stored from these partitions, in event-time order.

    Only rows up to the stored watermark (`offsets[(topic, partition)]`) of
    this broker: exactly what the consumer will not be given again.
    """
    partitions = sorted(set(partitions))
    if not partitions:
        return iter(())
    limit = {"tickets": [offsets.get(("tickets", p), -1) for p in partitions],
             "messages": [offsets.get(("messages", p), -1) for p in partitions]}
    sql = """
        SELECT occurred_at, event_id, _partition, account_id, ticket_id, type, status, pipeline,
               has(changed, 'status') OR type = 'ticket.created', merged_ticket_id, '', '', '', ''
        FROM ticket_events
        WHERE _topic = 'tickets' AND """ + stored_rows("tlimit") + """
          AND type IN ('ticket.created', 'ticket.updated', 'ticket.merged')
        UNION ALL
        SELECT occurred_at, event_id, _partition, account_id, ticket_id, 'message.created', '', '', false, '',
               direction, sender_type, sender_id, channel
        FROM message_events
        WHERE _topic = 'messages' AND """ + stored_rows("mlimit") + """
        ORDER BY 1, 2
    """
    result = warehouse.query(sql, {"source": source, "parts": partitions, "tlimit": limit["tickets"],
                                   "mlimit": limit["messages"]})
    for row in result.result_rows:
        yield (as_utc(row[0]), *row[1:])


def load_message_steps(warehouse: Warehouse, account_id: str, ticket_id: str):
    """A ticket's messages as (at, event_id, direction, sender_type, sender_id, channel), from the raw table."""
    result = warehouse.query(
        "SELECT occurred_at, event_id, direction, sender_type, sender_id, channel FROM message_events "
        "WHERE account_id = {account:String} AND ticket_id = {ticket:String} ORDER BY occurred_at, event_id",
        {"account": account_id, "ticket": ticket_id})
    return [(as_utc(at), *rest) for at, *rest in result.result_rows]
