"""Bounded memory: closed tickets leave memory and come back from ClickHouse, with the same facts.

A reference store keeps every ticket in memory. A second store runs the same
flushes as the worker does (raw rows, ticket rows and facts rows written to
chDB) and evicts closed tickets after each flush. Events held back until the
end then arrive late for evicted tickets: a customer message in the middle
of a closed ticket's history, and one after its close (a reopen). Each
ticket's properties and facts must equal the reference's, in the evicting
store and in a third store restored from chDB with eviction on.
"""

from __future__ import annotations

import asyncio
import json
import zlib
from datetime import UTC, datetime, timedelta

from deskpulse.bench import generate
from streams.core.config_store import ConfigStore
from streams.core.decode import SourceRef
from streams.worker.batch import Batch, BatchBuilder
from streams.worker.progress import ProgressStore
from streams.worker.sla_alerter import SlaAlerter
from streams.worker.tickets import TicketPartitions
from tests.support.events import created, message, raw
from tests.support.events import event as ticket_event

PARTITIONS = 3
SOURCE = "eviction-test"
EVICT_AFTER = timedelta(hours=50)  # the simulated history is in January 2026: every closed ticket is past it


def _store(config: ConfigStore, warehouse, builder: BatchBuilder, evict_after: timedelta | None) -> TicketPartitions:
    async def db_call(fn, *args):
        return fn(*args)

    alerter = SlaAlerter("localhost:9092", "sla-alerts", 3600)
    return TicketPartitions(config, alerter, warehouse, db_call, ProgressStore(builder, warehouse, db_call),
                            evict_after=evict_after)


def _snapshot(store: TicketPartitions) -> dict:
    out = {}
    for partition, folds in store.facts.folds.partitions.items():
        for key, fold in folds.items():
            state = store.state_of(partition, key)
            out[key] = (partition, dict(state.values) if state else None, store.facts.facts(key, fold, state))
    return out


def _late_records(records: list, count: int) -> tuple[list, list, set]:
    """Hold back one mid-history customer message of `count` tickets that close, and add a customer message
    after each one's close; returns (the stream without them, the late records, their ticket keys)."""
    events = [(t, k, json.loads(v)) for t, k, v in records]
    closes, inbound, last, merged = {}, {}, {}, set()
    for _, _, e in events:
        key = (e["account_id"], e.get("ticket_id"))
        last[key] = e
        if e["type"] == "ticket.updated" and e.get("status") == "closed":
            closes[key] = e["occurred_at"]
        if e["type"] == "message.created" and e["direction"] == "inbound":
            inbound.setdefault(key, []).append(e)
        if e["type"] == "ticket.merged":
            merged |= {key, (e["account_id"], e["merged_ticket_id"])}
    # closed for good (the close is the ticket's last event), in no merge, with a customer message mid-way
    chosen = [k for k in closes if last[k].get("status") == "closed" and k not in merged
              and len(inbound.get(k, ())) >= 2][:count]
    held, late = set(), []
    for key in chosen:
        middle = inbound[key][1]
        held.add(middle["event_id"])
        late.append(("messages", key[1].encode(), middle))
        after = dict(middle, event_id=middle["event_id"] + "-late", message_id=middle["message_id"] + "-late",
                     occurred_at=(datetime.fromisoformat(closes[key]) + timedelta(hours=1)).isoformat())
        late.append(("messages", key[1].encode(), after))
    stream = [(t, k, json.dumps(e).encode()) for t, k, e in events if e["event_id"] not in held]
    return stream, [(t, k, json.dumps(e).encode()) for t, k, e in late], set(chosen)


def test_a_late_event_for_an_evicted_ticket_gives_the_facts_it_would_have_had(clean_warehouse):
    warehouse = clean_warehouse
    stream, late, late_keys = _late_records(generate(6000, seed=11), 25)
    assert len(late_keys) == 25
    offsets: dict[tuple[str, int], int] = {}

    def batches(records, builder, size=700):
        for start in range(0, len(records), size):
            batch = Batch()
            for topic, key, value in records[start:start + size]:
                partition = zlib.crc32(key) % PARTITIONS
                offset = offsets[(topic, partition)] = offsets.get((topic, partition), -1) + 1
                builder.add(batch, SourceRef(topic, partition, offset), key, value)
            yield batch

    config = ConfigStore()
    reference = _store(config, warehouse, BatchBuilder(100_000, "reference"), None)

    async def run_reference():  # in memory only: writes nothing
        for batch in batches(stream + late, reference.progress.builder):
            for event in batch.config_events:
                config.apply(event)  # type: ignore[arg-type]
            await reference.apply(batch.ticket_events, batch.message_events)
            reference.facts_rows()

    asyncio.run(run_reference())
    offsets.clear()
    builder = BatchBuilder(100_000, SOURCE)
    evicting = _store(config, warehouse, builder, EVICT_AFTER)

    async def flush(batch: Batch, evict: bool) -> None:  # as IngestService._flush, then its eviction
        changed, refused = await evicting.apply(batch.ticket_events, batch.message_events)
        assert not refused
        tickets = evicting.ticket_rows(changed)
        if tickets.rows:
            batch.tables["tickets"] = tickets
        facts, _ = evicting.facts_rows()
        if facts.rows:
            batch.tables["ticket_facts"] = facts
        for table, columns in batch.tables.items():
            warehouse.insert_columns(table, columns.columns, columns.data)
        if evict:
            evicting.evict(datetime.now(UTC))

    async def run_evicting(records, evict=True):
        for batch in batches(records, builder):
            await flush(batch, evict)

    asyncio.run(run_evicting(stream))
    assert evicting.evicted > 1000
    kept = [(k, evicting.facts.folds.get(k)) for k in late_keys if evicting.facts.folds.get(k)]
    assert not kept, [(k, f[1].replies.closed, f[1].merged_into, f[1].replies.history[-1].at) for k, f in kept[:3]]
    assert len(evicting.facts.folds) < len(reference.facts.folds) * 0.7  # open and merged tickets stay
    asyncio.run(run_evicting(late, evict=False))  # compared in memory first; the next eviction drops them again
    assert evicting.reloaded >= len(late_keys)

    expected = _snapshot(reference)
    got = _snapshot(evicting)
    for key in late_keys:
        assert got[key] == expected[key], key
    assert all(got[k] == expected[k] for k in got), [k for k in got if got[k] != expected[k]][:3]
    # the stored facts rows of the late tickets are the reference's too
    stored = {(a, t): (ttfr, ttc, reopens) for a, t, ttfr, ttc, reopens in warehouse.query(
        "SELECT account_id, ticket_id, time_to_first_response_s, time_to_close_s, reopen_count "
        "FROM ticket_facts FINAL").result_rows}
    for key in late_keys:
        facts = expected[key][2]
        ttc = facts.time_to_close.seconds if facts.time_to_close else None
        assert stored[key][1:] == (ttc, facts.reopens), key

    evicting.evict(datetime.now(UTC))  # closed and quiet again: out once more
    assert not [k for k in late_keys if evicting.facts.folds.get(k)]

    # a fresh store restored from chDB holds only what it needs, equal to the reference
    restored = _store(config, warehouse, BatchBuilder(100_000, SOURCE), EVICT_AFTER)

    async def run_restore():
        assignment = {"tickets": list(range(PARTITIONS)), "messages": list(range(PARTITIONS))}
        await restored.progress.assign(assignment)
        await restored.assign(assignment)

    asyncio.run(run_restore())
    again = _snapshot(restored)
    assert 0 < len(again) < len(expected) * 0.7
    assert all(again[k] == expected[k] for k in again), [k for k in again if again[k] != expected[k]][:3]
    kept_open = {k for folds in reference.facts.folds.partitions.values() for k, f in folds.items()
                 if not f.replies.closed and not f.merged_into}
    assert kept_open <= again.keys(), "every open ticket is restored"


def test_tickets_chdb_did_not_hold_are_asked_for_once_until_memory_drops_them(clean_warehouse):
    """Messages often come before their ticket's creation. ClickHouse is asked once whether it holds such a
    ticket; after the ticket is stored and evicted, a late event reads it back all the same."""
    warehouse = clean_warehouse
    builder = BatchBuilder(100_000, SOURCE)
    asked: list[str] = []

    async def db_call(fn, *args):
        asked.append(fn.__name__)
        return fn(*args)

    store = TicketPartitions(ConfigStore(), SlaAlerter("localhost:9092", "sla-alerts", 3600), warehouse, db_call,
                             ProgressStore(builder, warehouse, db_call), evict_after=EVICT_AFTER)
    offset = iter(range(1000))

    async def flush(*values: dict) -> None:
        batch = Batch()
        for value in values:
            builder.add(batch, SourceRef("messages" if value["type"] == "message.created" else "tickets", 0,
                                         next(offset)), value["ticket_id"].encode(), raw(value))
        changed, _ = await store.apply(batch.ticket_events, batch.message_events)
        batch.tables["tickets"] = store.ticket_rows(changed)
        batch.tables["ticket_facts"] = store.facts_rows()[0]
        for table, columns in batch.tables.items():
            if columns.rows:
                warehouse.insert_columns(table, columns.columns, columns.data)

    async def run() -> None:
        await flush(message("k1", at="2026-01-05T09:00:00+00:00"))
        assert asked == ["load_states", "load_tickets"]  # nothing stored: remembered
        await flush(message("k1", "outbound", at="2026-01-05T09:30:00+00:00"))
        assert asked == ["load_states", "load_tickets"], "asked again for a ticket ClickHouse did not hold"
        await flush(created("k1", at="2026-01-05T08:00:00+00:00"))
        await flush(ticket_event("ticket.updated", ticket_id="k1", at="2026-01-05T10:00:00+00:00", status="closed"))
        assert store.evict(datetime.now(UTC)) == 1
        asked.clear()
        await flush(message("k1", at="2026-01-05T09:45:00+00:00"))  # late, for the evicted ticket
        assert asked == ["load_states", "load_tickets"]
        assert store.reloaded == 1

    asyncio.run(run())
    fold = store.facts.folds.get(("acme", "k1"))
    assert fold is not None
    replies = fold[1].replies
    assert replies.first_response_at == datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
    assert [s.kind for s in replies.history] == ["created", "customer", "rep", "customer", "closed"]
