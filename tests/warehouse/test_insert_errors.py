"""A row ClickHouse refuses whatever happens is isolated and dead-lettered; the rest of the batch is stored.

Issue 10, finding 7: a deterministic insert error (a value that does not fit
its column) was retried forever and stopped the pipeline.
"""

from __future__ import annotations

import asyncio

import pytest

from sinks.errors import is_deterministic
from streams.core.decode import SourceRef
from streams.worker import metrics
from streams.worker.batch import Batch, BatchBuilder
from streams.worker.checkpoint import Checkpoint
from streams.worker.settings import Settings
from streams.worker.sla_alerter import SlaAlerter
from tests.support.events import created, event, raw


def _calls(n: int) -> Batch:
    builder, batch = BatchBuilder(100, "src"), Batch()
    for i in range(n):
        call = event("call.ended", call_id=f"call{i}", rep_id="anna", outcome="completed",
                     started_at="2026-11-02T09:59:00+00:00", duration_s=60)
        builder.add(batch, SourceRef("calls", 0, i), f"call{i}".encode(), raw(call))
    return batch


def _checkpoint(warehouse) -> Checkpoint:
    """The checkpoint as the worker builds it, its ClickHouse calls run in place."""
    async def db_call(fn, *args):
        return fn(*args)

    return Checkpoint(Settings(), warehouse, db_call, SlaAlerter("localhost:9092", "sla-alerts", 60))


@pytest.mark.parametrize(("column", "value"), [
    ("duration_s", "sixty"),  # ClickHouse cannot parse it as Float64, whatever happens
    ("rep_id", "\ud800"),  # a lone surrogate: no UTF-8 (JSON) can carry it, the client refuses it
])
def test_the_refused_row_is_dead_lettered_and_the_others_are_stored(clean_warehouse, column, value):
    batch = _calls(9)
    rows = batch.tables["call_events"]._rows
    at = batch.tables["call_events"].columns.index(column)
    bad = list(rows[6])
    bad[at] = value
    rows[6] = tuple(bad)

    checkpoint = _checkpoint(clean_warehouse)
    before = metrics.ROWS_REJECTED.labels("call_events")._value.get()
    stored = asyncio.run(checkpoint.insert(batch))
    assert stored == 8
    kept = clean_warehouse.query("SELECT call_id FROM call_events ORDER BY _offset").result_rows
    assert [r[0] for r in kept] == [f"call{i}" for i in range(9) if i != 6]
    [(code, reason, topic, offset)] = clean_warehouse.query(
        "SELECT reason_code, reason, _topic, _offset FROM dead_letters").result_rows
    assert code == "insert_rejected" and reason.startswith("insert into call_events refused") and \
        (topic, offset) == ("calls", 6)
    assert metrics.ROWS_REJECTED.labels("call_events")._value.get() == before + 1
    assert checkpoint.failing_since is None


def test_a_large_commit_inserts_its_tables_in_one_call_and_a_refused_row_still_goes_alone(clean_warehouse):
    """A commit of at least `one_call_from` records inserts every table in one call on the ClickHouse thread;
    the table that fails there (and those after it) goes table by table, isolating the refused row."""
    batch = _calls(9)
    builder = BatchBuilder(100, "src")
    for i in range(4):
        builder.add(batch, SourceRef("tickets", 0, i), f"t{i}".encode(), raw(created(f"t{i}")))
    calls = batch.tables["call_events"]
    at = calls.columns.index("duration_s")
    calls._rows[6] = (*calls._rows[6][:at], "sixty", *calls._rows[6][at + 1:])

    checkpoint = _checkpoint(clean_warehouse)
    checkpoint.one_call_from = 1
    calls_made = []
    checkpoint.db_call = _counting(checkpoint.db_call, calls_made)
    assert asyncio.run(checkpoint.insert(batch)) == 12
    assert calls_made[0] == "_write_all"  # the one call came first
    assert clean_warehouse.query("SELECT count() FROM ticket_events").result_rows == [(4,)]
    kept = clean_warehouse.query("SELECT call_id FROM call_events ORDER BY _offset").result_rows
    assert [r[0] for r in kept] == [f"call{i}" for i in range(9) if i != 6]
    assert clean_warehouse.query("SELECT _offset FROM dead_letters").result_rows == [(6,)]

    calls_made.clear()
    checkpoint.one_call_from = 10_000  # a small commit: table by table
    asyncio.run(checkpoint.insert(_calls(2)))
    assert "_write_all" not in calls_made


def _counting(db_call, names: list[str]):
    async def counted(fn, *args):
        names.append(fn.__name__)
        return await db_call(fn, *args)
    return counted


def test_transient_and_deterministic_errors_are_told_apart():
    from clickhouse_connect.driver.exceptions import DatabaseError, DataError, OperationalError

    assert is_deterministic(DataError("Invalid None value in non-Nullable column"))
    assert is_deterministic(DatabaseError("Code: 53. DB::Exception: Type mismatch"))
    assert not is_deterministic(OperationalError("Connection refused"))
    assert not is_deterministic(DatabaseError("Code: 241. DB::Exception: Memory limit exceeded"))
    assert not is_deterministic(DatabaseError("Code: 252. DB::Exception: Too many parts"))


def test_a_failing_insert_gives_up_when_the_worker_stops(clean_warehouse):
    """A transient failure retries, but never holds a stop (SIGTERM used to need kill -9)."""
    import pytest

    from sinks.rows import ColumnBatch
    from streams.worker.checkpoint import FlushAborted

    checkpoint = _checkpoint(clean_warehouse)
    batch = Batch()
    batch.tables["no_such_table"] = ColumnBatch(("x",), _rows=[(1,)])  # UNKNOWN_TABLE: not the rows' fault

    async def stop_soon() -> None:
        await asyncio.sleep(1.0)
        checkpoint.stopping.set()

    async def run() -> None:
        stopping = asyncio.ensure_future(stop_soon())
        with pytest.raises(FlushAborted):
            await checkpoint.insert(batch)
        await stopping

    asyncio.run(run())
    assert checkpoint.failing_since is not None  # /healthz said so while it lasted


def test_an_insert_that_can_finish_does_when_the_worker_stops(clean_warehouse):
    """Only a failing insert gives up on a stop: a stop used to throw away a half-inserted batch, and the next
    owner of its partitions stored the rest again (test_three_workers, with a store per worker)."""
    checkpoint = _checkpoint(clean_warehouse)
    builder, batch = BatchBuilder(100, "cluster-A"), Batch()
    for offset in range(3):
        builder.add(batch, SourceRef("tickets", 0, offset), b"k", raw(created(f"stop{offset}")))
    checkpoint.stopping.set()
    assert asyncio.run(checkpoint.insert(batch)) == 3
    assert clean_warehouse.watermarks("ticket_events", "cluster-A", "tickets", [0]) == {0: 2}
