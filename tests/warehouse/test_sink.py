"""The ClickHouse side against real chDB: migrations, inserts, watermarks, ticket state, reports."""

import gc
import re
from datetime import UTC, date, datetime, timedelta, timezone

from schemas.events import ANY_EVENT
from sinks import ticket_store
from sinks.clickhouse import watermarks_sql
from sinks.migrate import available, migrate
from sinks.reports import parameters, report_sql
from sinks.reports.request import account_config, account_zone
from sinks.rows import TABLE_OF_TOPIC, ColumnBatch
from streams.core.decode import SourceRef
from streams.core.ticket_properties import update_properties
from streams.worker.batch import Batch, BatchBuilder
from tests.support.events import created, event, raw


def write(warehouse, batch):
    for table, columns in batch.tables.items():
        warehouse.insert_columns(table, columns.columns, columns.data)


def test_migrations_are_recorded_and_safe_to_run_twice(warehouse):
    assert migrate(warehouse) == []
    versions = [r[0] for r in warehouse.query("SELECT version FROM schema_migrations ORDER BY version").result_rows]
    assert versions == [m.version for m in available()]


def test_cluster_ddl_uses_on_cluster_and_replicated_engines():
    """Every statement of every migration runs on the whole cluster, every table engine replicates."""
    for migration in available():
        statements = migration.statements("prod")
        assert statements, migration.name
        for s in statements:
            assert "ON CLUSTER `prod`" in s, (migration.name, s[:80])
            assert "{on_cluster}" not in s and "{replicated}" not in s, (migration.name, s[:80])
            engines = re.findall(r"ENGINE\s*=\s*(\w+)", s)
            assert all(e.startswith("Replicated") for e in engines), (migration.name, engines)
    assert "ENGINE = ReplicatedMergeTree" in available()[0].statements("prod")[0]


def test_watermarks_are_per_table_partition_and_broker(clean_warehouse):
    builder, batch = BatchBuilder(100, "cluster-A"), Batch()
    for offset in range(4):
        builder.add(batch, SourceRef("tickets", 1, offset), b"k", raw(created(f"t{offset}")))
    builder.add(batch, SourceRef("tickets", 1, 4), b"k", b"nope")
    write(clean_warehouse, batch)
    assert clean_warehouse.watermarks("ticket_events", "cluster-A", "tickets", [0, 1]) == {1: 3}
    assert clean_warehouse.watermarks("dead_letters", "cluster-A", "tickets", [1]) == {1: 4}
    assert clean_warehouse.watermarks("ticket_events", "cluster-B", "tickets", [1]) == {}  # a reset broker
    ids = clean_warehouse.recent_event_ids("ticket_events", "tickets", 1, 2)
    assert len(ids) == 2


def test_watermarks_come_from_the_offsets_projection_and_agree_with_parts_written_before_it(clean_warehouse):
    """Migration 0014: the highest offset per partition is read from a projection, also over parts written
    before it existed (until the projection is materialized on them, they are read as before)."""
    def add(builder, partition, offsets):
        batch = Batch()
        for offset in offsets:
            builder.add(batch, SourceRef("tickets", partition, offset), b"k", raw(created(f"p{partition}o{offset}")))
        write(clean_warehouse, batch)

    builder = BatchBuilder(100, "cluster-A")
    add(builder, 1, range(4))
    projection = next(m for m in available() if m.version == 14).statements(None)
    clean_warehouse.command("ALTER TABLE ticket_events DROP PROJECTION stored_offsets")
    try:
        add(builder, 1, [5, 6])  # parts without the projection
        add(builder, 0, [0, 1])
        assert clean_warehouse.watermarks("ticket_events", "cluster-A", "tickets", [0, 1, 2]) == {0: 1, 1: 6}
    finally:
        for statement in projection:
            if statement.startswith("ALTER TABLE ticket_events"):  # add and materialize
                clean_warehouse.command(statement)
    add(builder, 1, [9])
    assert clean_warehouse.watermarks("ticket_events", "cluster-A", "tickets", [0, 1]) == {0: 1, 1: 9}
    assert clean_warehouse.watermarks("ticket_events", "cluster-A", "tickets", [0]) == {0: 1}
    assert clean_warehouse.watermarks("ticket_events", "cluster-B", "tickets", [0, 1]) == {}
    plan = clean_warehouse.query("EXPLAIN projections = 1 " + watermarks_sql("ticket_events"),
                                 {"source": "cluster-A", "topic": "tickets", "partitions": [0, 1]}).result_rows
    assert any("ReadFromMergeTree (stored_offsets)" in row[0] for row in plan), plan
    for table in [*TABLE_OF_TOPIC.values(), "dead_letters"]:
        names = clean_warehouse.query("SELECT name FROM system.projections WHERE database = currentDatabase() "
                                      "AND table = {t:String}", {"t": table}).result_rows
        assert ("stored_offsets",) in names, table


def test_recent_event_ids_are_the_newest_by_ingestion_however_old(clean_warehouse):
    """The restore's de-duplication window, read a day, then 30 days, then all at a time: for every limit the
    same ids as one unbounded read (sorted here), of the one partition asked."""
    now = datetime.now(UTC)
    ages = [timedelta(minutes=5), timedelta(hours=3), timedelta(days=2), timedelta(days=2), timedelta(days=10),
            timedelta(days=40), timedelta(days=400), timedelta(minutes=1)]
    rows = [(f"e{i}", "tickets", 1, i, now - age) for i, age in enumerate(ages)]
    rows.append(("elsewhere", "tickets", 2, 99, now))
    clean_warehouse.insert_columns("ticket_events", ["event_id", "_topic", "_partition", "_offset", "_ingested_at"],
                                   [list(column) for column in zip(*rows, strict=True)])
    newest = [r[0] for r in sorted(rows[:-1], key=lambda r: (r[4], r[3]), reverse=True)]
    for limit in range(1, len(newest) + 2):
        assert clean_warehouse.recent_event_ids("ticket_events", "tickets", 1, limit) == newest[:limit], limit
    indexes = clean_warehouse.query("SELECT table FROM system.data_skipping_indices WHERE database = currentDatabase() "
                                    "AND name = 'ingested_idx' ORDER BY table").result_rows
    assert [t for (t,) in indexes] == sorted(TABLE_OF_TOPIC.values())


def test_holes_are_the_offsets_below_the_highest_that_a_store_does_not_hold(clean_warehouse):
    """What another worker sank (a store per worker) shows as holes, per partition, of this broker only."""
    builder, batch = BatchBuilder(100, "cluster-A"), Batch()
    for partition, offsets in {0: [0, 1, 2], 1: [2, 3, 6, 7, 10], 2: [5]}.items():
        for offset in offsets:
            builder.add(batch, SourceRef("tickets", partition, offset), b"k", raw(created(f"t{partition}-{offset}")))
    other = BatchBuilder(100, "cluster-B")
    other.add(batch, SourceRef("tickets", 0, 9), b"k", raw(created("elsewhere")))
    write(clean_warehouse, batch)
    holes = clean_warehouse.holes("ticket_events", "cluster-A", "tickets", [0, 1, 2])
    assert holes == {1: [(0, 2), (4, 6), (8, 10)], 2: [(0, 5)]}
    assert clean_warehouse.holes("ticket_events", "cluster-A", "messages", [0, 1, 2]) == {}


def test_ticket_state_survives_a_round_trip_through_clickhouse(clean_warehouse):
    events = [ANY_EVENT.validate_python(e) for e in (
        created("t9", at="2026-11-02T10:00:00+00:00", owner_id="anna", subject="Printer on fire"),
        event("ticket.updated", at="2026-11-02T11:00:00+00:00", ticket_id="t9", owner_id=None, status="closed"),
    )]
    state = None
    for e in events:
        state = update_properties(state, e)
    closed_at = state.closed_at(lambda p, s: s == "closed")
    clean_warehouse.insert_columns("tickets", ticket_store.COLUMNS,
                                   list(zip(ticket_store.state_row(state, closed_at, 0, 1), strict=True)))
    loaded = ticket_store.load_states(clean_warehouse, [("acme", "t9")])[("acme", "t9")]
    assert loaded.stamps == state.stamps
    assert {k: loaded.get(k) for k in ("status", "owner_id", "subject")} == {
        "status": "closed", "owner_id": "", "subject": "Printer on fire"}
    assert loaded.created_at == state.created_at and loaded.version == state.version
    row = clean_warehouse.query("SELECT is_open, closed_at FROM tickets_current WHERE ticket_id = 't9'").result_rows
    assert row[0][0] is False and row[0][1].replace(tzinfo=UTC) == datetime(2026, 11, 2, 11, tzinfo=UTC)


def test_tickets_created_report_buckets_by_local_date(clean_warehouse):
    builder, batch = BatchBuilder(100, "c"), Batch()
    # Stockholm is UTC+1 in November: 22:30 UTC is 23:30 on Nov 2 there, 23:30 UTC is already Nov 3.
    times = ["2026-11-02T22:30:00+00:00", "2026-11-02T23:30:00+00:00", "2026-11-03T08:00:00+00:00"]
    for i, at in enumerate(times):
        builder.add(batch, SourceRef("tickets", 0, i), b"k", raw(created(f"r{i}", at=at, channel="chat")))
    builder.add(batch, SourceRef("config", 0, 0), b"acme",
                raw(event("config.updated", config={"timezone": "Europe/Stockholm"})))
    write(clean_warehouse, batch)
    def query(sql, params):
        result = clean_warehouse.query(sql, params)
        return list(result.column_names), [list(r) for r in result.result_rows]

    tz, _ = account_zone(account_config(query, "acme"))  # the newest configuration, as `deskpulse report` reads it
    assert tz == "Europe/Stockholm"
    params = parameters(date(2026, 11, 1), date(2026, 11, 5), "day", tz, account="acme")
    rows = clean_warehouse.query(report_sql("tickets-created"), params).result_rows
    assert [(str(r[1]), r[2]) for r in rows] == [("2026-11-02", 1), ("2026-11-03", 2)]
    utc = clean_warehouse.query(report_sql("tickets-created"),
                                parameters(date(2026, 11, 1), date(2026, 11, 5), "day", "UTC")).result_rows
    assert [(str(r[1]), r[2]) for r in utc] == [("2026-11-02", 2), ("2026-11-03", 1)]
    week = clean_warehouse.query(report_sql("tickets-created"),
                                 parameters(date(2026, 11, 1), date(2026, 11, 30), "week", tz,
                                            channel="chat")).result_rows
    assert [(str(r[1]), r[2]) for r in week] == [("2026-11-02", 3)]
    none = clean_warehouse.query(report_sql("tickets-created"),
                                 parameters(date(2026, 11, 1), date(2026, 11, 30), "month", tz,
                                            channel="email")).result_rows
    assert none == []


def test_times_in_arrays_and_nulls_are_stored_to_the_millisecond(warehouse):
    """Through the JSON insert (sinks/clickhouse.py): times in arrays, NULLs, other zones, before 1970."""
    warehouse.command("CREATE TABLE times_probe (i UInt8, at DateTime64(3, 'UTC'), "
                      "maybe Nullable(DateTime64(3, 'UTC')), many Array(Nullable(DateTime64(3, 'UTC')))) "
                      "ENGINE = MergeTree ORDER BY i")
    before_epoch = datetime(1969, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC)
    stockholm = datetime(2026, 3, 29, 3, 30, 0, 123_999, tzinfo=timezone(timedelta(hours=2)))
    rows = ColumnBatch(("i", "at", "maybe", "many"), nullable=frozenset({"maybe"}))
    rows.append((1, stockholm, None, [before_epoch, None, stockholm]))
    rows.append((2, before_epoch, stockholm, []))
    warehouse.insert_columns("times_probe", rows.columns, rows.data)
    got = warehouse.query("SELECT i, at, maybe, many FROM times_probe ORDER BY i").result_rows
    at_ms = datetime(2026, 3, 29, 1, 30, 0, 123_000, tzinfo=UTC)
    last_ms = datetime(1969, 12, 31, 23, 59, 59, 999_000, tzinfo=UTC)
    assert [(i, a.astimezone(UTC), m and m.astimezone(UTC), [x and x.astimezone(UTC) for x in xs])
            for i, a, m, xs in got] == [(1, at_ms, None, [last_ms, None, at_ms]), (2, last_ms, at_ms, [])]


def test_floats_naive_times_and_defaults_survive_the_json_insert(warehouse):
    """Inserts go as JSON (sinks/clickhouse.py): floats come back bit for bit, a naive time is UTC, a None
    where no NULL is stored is the column's default, and text of any kind comes back as it was."""
    warehouse.command("CREATE TABLE json_probe (i UInt8, x Float64, at DateTime64(3, 'UTC'), s String, "
                      "tags Map(LowCardinality(String), String)) ENGINE = MergeTree ORDER BY i")
    floats = [0.1 + 0.2, 1 / 3, 5e-324, 1.7976931348623157e308, -123456.78901234567, 2.0**-1074 * 3, 1e21]
    text = 'quote " backslash \\ newline \n tab \t nul \x00 emoji \U0001f600 bidi \u202e'
    rows = ColumnBatch(("i", "x", "at", "s", "tags"))
    for i, x in enumerate(floats):
        rows.append((i, x, datetime(2026, 3, 29, 1, 30, 0, 123_999), text if i else None, {"k": text}))
    warehouse.insert_columns("json_probe", rows.columns, rows.data)
    got = warehouse.query("SELECT x, at, s, tags FROM json_probe ORDER BY i").result_rows
    assert [x for x, _, _, _ in got] == floats
    assert {at.astimezone(UTC) for _, at, _, _ in got} == {datetime(2026, 3, 29, 1, 30, 0, 123_000, tzinfo=UTC)}
    assert [s for _, _, s, _ in got] == ["", *[text] * (len(floats) - 1)]
    assert all(tags == {"k": text} for _, _, _, tags in got)


def test_a_large_insert_stores_every_row_once(warehouse):
    """Over 10 MiB ClickHouse splits the JSON rows to parse them in parallel; the split must keep rows whole
    (they are separated by commas, and the text holds brackets, commas and quotes)."""
    warehouse.command("CREATE TABLE large_probe (i UInt32, s String, tags Array(String)) ENGINE = MergeTree ORDER BY i")
    noise = '], [", "' * 20
    rows = [(i, f"{i}{noise}", [noise, str(i)]) for i in range(40_000)]
    warehouse.insert_rows("large_probe", ("i", "s", "tags"), rows)
    got = warehouse.query("SELECT count(), uniqExact(i), sum(i), countIf(s != concat(toString(i), {noise:String})), "
                          "countIf(tags != [{noise:String}, toString(i)]) FROM large_probe",
                          {"noise": noise}).result_rows
    assert got == [(40_000, 40_000, sum(range(40_000)), 0, 0)]


def test_an_insert_leaves_no_garbage_holding_its_rows(warehouse):
    """The worker collects garbage rarely (streams/worker/ingest.py:freeze_heap): an insert must not leave a
    reference cycle that keeps its column lists alive until then (the driver's insert contexts did)."""
    warehouse.command("CREATE TABLE garbage_probe (i UInt32, tags Array(String)) ENGINE = MergeTree ORDER BY i")

    def insert() -> None:  # the batch is dropped afterwards, as a worker's after its commit
        rows = ColumnBatch(("i", "tags"))
        for i in range(2000):
            rows.append((i, [f"t{i}"]))
        warehouse.insert_columns("garbage_probe", rows.columns, rows.data)

    gc.collect()
    gc.disable()
    try:
        for _ in range(3):
            insert()
        found = gc.collect()
    finally:
        gc.enable()
    assert found < 100, found
    assert warehouse.query("SELECT count() FROM garbage_probe").result_rows == [(6000,)]
