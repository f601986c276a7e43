"""Issue 9: the worker's conversation facts in real chDB, through the same shell the ingest service runs.

Events arrive shuffled over several flushes, with repeats, while the fold
cache holds two conversations: most are evicted and folded again from the
stored events. The stored facts must equal one fold of all the events
(the fold itself is checked against a sorted-events reference in
tests/unit/test_agent_conversations.py).
"""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta

from schemas.events import ANY_EVENT
from sinks.conversation_store import COLUMNS
from sinks.rows import ColumnBatch, event_row, table_columns
from streams.core.agent_conversations import ConversationFold
from streams.core.decode import SourceRef
from streams.worker.conversations import Conversations, step_of

T0 = datetime(2026, 11, 2, 9, tzinfo=UTC)
KINDS = ["agent.answered", "agent.unanswered", "agent.handed_off", "agent.resolved", "agent.feedback",
         "agent.conversation_closed"]


def conversation_events(rng: random.Random, account: str, cid: str) -> list:
    events = [{"type": "agent.conversation_started", "channel": rng.choice(["chat", "messenger"])}]
    for _ in range(rng.randint(0, 6)):
        kind = rng.choice(KINDS)
        e: dict = {"type": kind}
        if kind == "agent.unanswered":
            e["question"] = "how do I export invoices?"
        if kind == "agent.handed_off":
            e.update(ticket_id=f"T-{cid}", to_team_id="billing", to_rep_id=rng.choice([None, "anna"]))
        if kind == "agent.feedback":
            e["helpful"] = rng.random() < 0.5
        events.append(e)
    out = []
    for i, e in enumerate(events):
        at = T0 + timedelta(minutes=rng.randint(0, 120) if i else 0)
        out.append(ANY_EVENT.validate_python({
            "event_id": f"{cid}-{i}", "account_id": account, "occurred_at": at.isoformat(), "schema_version": 1,
            "conversation_id": cid, **e}))
    return out


def stored_facts(warehouse) -> dict:
    result = warehouse.query(f"SELECT {', '.join(COLUMNS[:-2])} FROM agent_conversation_facts_current")
    return {(r[0], r[1]): r[2:] for r in result.result_rows}


def test_facts_stored_over_shuffled_flushes_with_evictions_equal_one_fold(clean_warehouse):
    rng = random.Random(9)
    events = [e for n in range(40) for e in conversation_events(rng, rng.choice(["acme", "globex"]), f"c{n}")]
    arrival = events + rng.sample(events, 30)  # redelivered repeats
    rng.shuffle(arrival)

    async def direct(fn, *args):
        return fn(*args)

    keeper = Conversations(clean_warehouse, direct, capacity=2)
    offset = 0
    for start in range(0, len(arrival), 17):
        flush = []
        for event in arrival[start:start + 17]:
            flush.append((event, SourceRef("agent", 0, offset)))
            offset += 1
        facts, refused = asyncio.run(keeper.rows(flush))
        assert not refused
        clean_warehouse.insert_columns("agent_conversation_facts", list(facts.columns), facts.data)
        raw = ColumnBatch(table_columns("agent_events"))
        for event, source in flush:
            raw.append(event_row(event, source, "test")[1])
        clean_warehouse.insert_columns("agent_events", list(raw.columns), raw.data)
    assert keeper.reloaded > 40  # evicted conversations were folded again from ClickHouse

    expected = {}
    for event in events:
        expected.setdefault((event.account_id, event.conversation_id), ConversationFold()).add(step_of(event))
    stored = stored_facts(clean_warehouse)
    assert set(stored) == set(expected)
    for key, fold in expected.items():
        facts = fold.facts()
        want = (facts.started_at, facts.channel, facts.handled, facts.handed_off, facts.handed_off_at,
                facts.ticket_id, facts.to_rep_id, facts.to_team_id, facts.resolved_by_agent, facts.resolved_at,
                facts.closed_at, facts.deflected, facts.resolution_s, facts.helpful)
        got = tuple(v.replace(tzinfo=UTC) if isinstance(v, datetime) and v.tzinfo is None else v for v in stored[key])
        assert got == want, key


def test_a_conversation_past_its_event_limit_dead_letters_the_rest(clean_warehouse, monkeypatch):
    from streams.worker import conversations

    monkeypatch.setattr(conversations, "MAX_CONVERSATION_EVENTS", 3)

    async def direct(fn, *args):
        return fn(*args)

    rng = random.Random(1)
    events = conversation_events(rng, "acme", "long")
    while len(events) < 5:
        events = conversation_events(rng, "acme", "long")
    keeper = Conversations(clean_warehouse, direct)
    facts, refused = asyncio.run(keeper.rows([(e, SourceRef("agent", 0, i)) for i, e in enumerate(events)]))
    assert len(refused) == len(events) - 3 and {r.reason_code for r in refused} == {"conversation_too_long"}
    assert facts.rows == 1
