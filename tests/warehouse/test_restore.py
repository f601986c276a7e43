"""One restore path: ticket state rebuilt from ClickHouse equals the state built from the same events live.

Simulated traffic goes through the live path (batches -> raw rows in chDB,
ticket properties and folds in memory); a second, fresh store restores the
same partitions from chDB. Every ticket's properties, facts and SLA clocks
must be the same.
"""

from __future__ import annotations

import asyncio
import zlib

from deskpulse.bench import generate
from streams.core.config_store import ConfigStore
from streams.core.decode import SourceRef
from streams.worker.batch import Batch, BatchBuilder
from streams.worker.progress import ProgressStore
from streams.worker.sla_alerter import SlaAlerter
from streams.worker.tickets import TicketPartitions

PARTITIONS = 3
SOURCE = "restore-test"


def _store(config: ConfigStore, warehouse, builder: BatchBuilder) -> TicketPartitions:
    async def db_call(fn, *args):
        return fn(*args)

    alerter = SlaAlerter("localhost:9092", "sla-alerts", 3600)
    return TicketPartitions(config, alerter, warehouse, db_call, ProgressStore(builder, warehouse, db_call))


def _snapshot(store: TicketPartitions) -> dict:
    out = {}
    for partition, folds in store.facts.folds.partitions.items():
        for key, fold in folds.items():
            state = store.state_of(partition, key)
            facts = store.facts.facts(key, fold, state)
            props = dict(state.values) if state else None
            out[key] = (partition, props, state.deleted if state else None, facts)
    return out


def test_restoring_from_clickhouse_gives_the_live_state(clean_warehouse):
    warehouse = clean_warehouse
    records = generate(6000, seed=7)
    config = ConfigStore()
    builder = BatchBuilder(100_000, SOURCE)
    live = _store(config, warehouse, builder)

    async def run_live():
        offsets: dict[tuple[str, int], int] = {}
        for start in range(0, len(records), 700):  # several flushes, as the worker does
            batch = Batch()
            for topic, key, value in records[start:start + 700]:
                partition = zlib.crc32(key) % PARTITIONS
                offset = offsets[(topic, partition)] = offsets.get((topic, partition), -1) + 1
                builder.add(batch, SourceRef(topic, partition, offset), key, value)
            for event in batch.config_events:
                config.apply(event)  # type: ignore[arg-type]
            _, refused = await live.apply(batch.ticket_events, batch.message_events)
            assert not refused  # the simulator makes no merge cycles
            live.facts_rows()
            for table, columns in batch.tables.items():
                warehouse.insert_columns(table, columns.columns, columns.data)

    asyncio.run(run_live())
    assert len(live.facts.folds) > 300

    restored_builder = BatchBuilder(100_000, SOURCE)
    restored = _store(config, warehouse, restored_builder)

    async def run_restore():
        assignment = {"tickets": list(range(PARTITIONS)), "messages": list(range(PARTITIONS))}
        await restored.progress.assign(assignment)
        await restored.assign(assignment)

    asyncio.run(run_restore())
    before, after = _snapshot(live), _snapshot(restored)
    assert before.keys() == after.keys()
    differing = [k for k in before if before[k] != after[k]]
    if differing:
        _debug(before, after, differing[0])
    assert differing == [], f"{len(differing)} of {len(before)} tickets differ, e.g. {differing[:3]}"


def _debug(before, after, key):
    a, b = before[key], after[key]
    for i, (x, y) in enumerate(zip(a, b, strict=True)):
        if x != y:
            print("FIELD", i)
            if hasattr(x, "__dataclass_fields__"):
                for f in x.__dataclass_fields__:
                    if getattr(x, f) != getattr(y, f):
                        print(" ", f, getattr(x, f), "||", getattr(y, f))
            else:
                print(" ", x, "||", y)
