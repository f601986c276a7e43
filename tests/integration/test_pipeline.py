"""End to end through a real broker (Tansu) and real ClickHouse (chDB): no mocks."""

from __future__ import annotations

import json
import re
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from kafka import KafkaConsumer
from kafka.structs import OffsetAndMetadata

from deskpulse.worker_process import total_lag
from schemas.topics import TOPICS
from streams.worker.kafka_admin import ensure_topics
from tests.support.cli import deskpulse
from tests.support.events import created, event, message
from tests.support.pipeline import RAW_TABLES, config_applied, dead_letter_messages, encoded, produce, sql, table_rows
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration


def test_simulated_traffic_lands_in_clickhouse_minus_dead_letters(stack, start_worker):
    result = deskpulse("--broker", stack.broker, "--topic-prefix", stack.topic_prefix, "simulate", "--seed", "5",
                       "--start", "2026-11-02", "--days", "1", "--fast", "--bad-ratio", "0.02")
    produced, bad = map(int, re.match(r"produced (\d+) events \((\d+) malformed\)", result.stdout).groups())
    assert produced > 3000 and bad > 20
    worker = start_worker(stack)
    try:
        stats = worker.wait_processed(produced, timeout=120)
        assert stats["events"] == produced - bad and stats["dead_lettered"] == bad and stats["duplicates"] == 0
        rows = table_rows(stack)  # answered by the running worker (it holds the chDB directory)
    finally:
        assert worker.stop() == 0
    assert sum(rows.values()) == produced - bad
    assert all(rows[t] > 0 for t in RAW_TABLES)
    # After the worker stopped, the CLI opens the embedded ClickHouse itself.
    dead = sql(stack, "SELECT reason_code, count() AS n FROM dead_letters GROUP BY reason_code")
    assert sum(int(r["n"]) for r in dead) == bad
    assert {r["reason_code"] for r in dead} <= {"invalid_json", "schema", "unknown_type"}
    messages = dead_letter_messages(stack, bad)
    assert len(messages) == bad
    headers = dict(messages[0].headers)
    assert headers["deskpulse.reason"] and headers["deskpulse.source_topic"].startswith(stack.topic_prefix.encode())
    # Tickets whose creation was dead-lettered on purpose still get a row from
    # their updates, with no created_at.
    tickets = sql(stack, "SELECT countIf(created_at IS NOT NULL) AS n, countIf(is_open) AS open, "
                         "countIf(merged_into != '') AS merged, countIf(merged_into = ticket_id) AS self_merged "
                         "FROM tickets_current")[0]
    created_count = sql(stack, "SELECT count() AS n FROM ticket_events WHERE type = 'ticket.created'")[0]["n"]
    assert int(tickets["n"]) == int(created_count)
    assert 0 < int(tickets["open"]) < int(tickets["n"]) and int(tickets["merged"]) > 0
    assert int(tickets["self_merged"]) == 0  # merged_into names the primary, not the merged ticket


def test_duplicate_event_ids_are_stored_once(stack, start_worker):
    events = [created(f"d{i}") for i in range(200)] + [message("d1") for _ in range(50)]
    batch = encoded(events)
    produce(stack, batch + batch + batch[:1])  # every event twice, one three times
    worker = start_worker(stack)
    try:
        stats = worker.wait_processed(len(batch) * 2 + 1, timeout=60)
    finally:
        worker.stop()
    assert stats["duplicates"] == len(batch) + 1
    rows = table_rows(stack)
    assert rows["ticket_events"] == 200 and rows["message_events"] == 50


def test_worker_killed_mid_stream_and_restarted_leaves_one_row_per_event(stack, start_worker):
    from deskpulse.bench import generate

    records = generate(40_000, seed=11)
    produce(stack, [(t, k, v) for t, k, v in records])
    # Small batches: many flush/commit cycles, so the kill lands between them.
    worker = start_worker(stack, DESKPULSE_BATCH_MAX_ROWS=1500)
    deadline = time.monotonic() + 60
    while (worker.stats() or {}).get("records", 0) < 8_000 and time.monotonic() < deadline:
        time.sleep(0.02)
    worker.kill()  # SIGKILL: no revoke, no final commit
    assert sum(table_rows(stack).values()) < len(records), "the kill came too late to test anything"
    worker = start_worker(stack)
    try:
        deadline = time.monotonic() + 120
        while sum(table_rows(stack).values()) < len(records) and time.monotonic() < deadline:
            time.sleep(0.5)
        time.sleep(1.5)  # anything extra would arrive now
        rows = table_rows(stack)
    finally:
        worker.stop()
    assert sum(rows.values()) == len(records)


FACTS = ("SELECT account_id, ticket_id, created_at, first_response_at, time_to_first_response_s, closed_at, "
         "time_to_close_s, reopen_count, waiting_since, length(intervals.metric) AS intervals, "
         "length(stages.stage) AS stages, clocks.metric AS clocks, clocks.stopped_at AS stopped "
         "FROM ticket_facts FINAL ORDER BY account_id, ticket_id")


def _facts_difference(got: list[dict], expected: list[dict]) -> str:
    """Which tickets are missing, extra or different, for a failure message."""
    g, e = ({r["ticket_id"]: r for r in rows} for rows in (got, expected))
    differ = [t for t in e if t in g and g[t] != e[t]]
    first = (g[differ[0]], e[differ[0]]) if differ else None
    return (f"missing {sorted(set(e) - set(g))[:20]}, extra {sorted(set(g) - set(e))[:20]}, "
            f"{len(differ)} differ, the first (got, expected): {first}")


def test_facts_rows_waiting_for_their_window_survive_a_kill(stack, start_worker):
    """Under a backlog a touched ticket's facts row waits for its coalescing window while later records are
    stored, and offsets are committed behind it. A kill then loses no facts row: the records from the held
    offsets come again, the tickets they touch are stated again, and every ticket's stored facts are those of
    a worker that never stopped."""
    tickets = 1_000
    events = []
    for i in range(tickets):
        at = datetime(2026, 11, 2, 8, tzinfo=UTC) + timedelta(minutes=i)
        ticket = f"k{i}"
        events += [created(ticket, at=at.isoformat()),
                   message(ticket, at=(at + timedelta(minutes=5)).isoformat()),
                   message(ticket, "outbound", at=(at + timedelta(minutes=20 + i % 7)).isoformat()),
                   event("ticket.updated", ticket_id=ticket, status="closed", at=(at + timedelta(hours=1)).isoformat())]
    # then a backlog of calls the schema refuses (no such outcome): each is dead-lettered, slower than a stored
    # row, so the backlog lasts long enough that the tickets are all consumed while it does and their rows wait
    events += [event("call.ended", call_id=f"c{i}", rep_id="anna", outcome="answered", duration_s=60.0,
                     started_at="2026-11-02T09:00:00+00:00", at="2026-11-02T09:01:00+00:00") for i in range(30_000)]
    records = encoded(events)
    reference = stack.with_overrides(topic_prefix=f"ref{uuid.uuid4().hex[:6]}.", group_id=f"ref-{uuid.uuid4().hex[:6]}",
                                     data_dir=stack.data_dir.parent / "reference")
    ensure_topics(reference.bootstrap, reference.topic_prefix, reference.partitions)
    for settings in (stack, reference):
        produce(settings, records)
    worker = start_worker(reference, DESKPULSE_FACTS_COALESCE_S=0)
    try:
        worker.wait_processed(len(records), timeout=120)
        expected = sql(reference, FACTS)
    finally:
        worker.stop()
    assert len(expected) == tickets

    worker = start_worker(stack, DESKPULSE_BATCH_MAX_ROWS=2000, DESKPULSE_FACTS_COALESCE_S=60)
    # Every ticket and message record is stored while the calls' dead letters go on (tens of seconds) and the
    # tickets' rows wait: a row is written only after its minute or when the stream is quiet. After the kill
    # every ticket record comes again as a stored one, so nothing but restating them brings the rows back (a
    # batch of such records alone once committed past them with no row written).
    waiting = wait_until(lambda: (t := table_rows(stack))["ticket_events"] + t["message_events"] == 4 * tickets
                         and (s := worker.stats() or {}).get("facts_waiting", 0) > 0 and s, 60, "rows waiting")
    # a commit after that one: its offsets were held back for the rows that wait
    wait_until(lambda: (worker.stats() or {}).get("records", 0) > waiting["records"], 30, "a commit while rows wait")
    worker.kill()  # SIGKILL: the waiting rows were never written
    worker = start_worker(stack)
    try:
        done = wait_until(lambda: (s := worker.stats() or {}).get("lag") and s["facts_waiting"] == 0
                          and total_lag(s) == 0 and s, 120, "every facts row written and every offset committed")
        got = sql(stack, FACTS)
    finally:
        worker.stop()
    assert done["duplicates"] > 0  # ticket records came again from the held offsets
    assert got == expected, _facts_difference(got, expected)


def test_full_redelivery_after_lost_commits_writes_nothing_twice(stack, start_worker):
    """A crash after the insert but before the offset commit, made deterministic."""
    events = [created(f"r{i}") for i in range(300)] + [message(f"r{i}") for i in range(300)]
    produce(stack, encoded(events) + [("tickets", b"x", b"{broken")])
    worker = start_worker(stack)
    try:
        worker.wait_processed(len(events) + 1, timeout=60)
    finally:
        assert worker.stop() == 0
    before = table_rows(stack)
    # Rewind the group's committed offsets to 0: every record is delivered again.
    # (A member of the group does it: the broker refuses commits from outsiders.)
    rewind = KafkaConsumer(bootstrap_servers=stack.bootstrap, group_id=stack.group_id, enable_auto_commit=False,
                           session_timeout_ms=6000, max_poll_interval_ms=4000)
    rewind.subscribe([stack.topic(t.name) for t in TOPICS])
    deadline = time.monotonic() + 30
    while len(rewind.assignment()) < len(TOPICS) * stack.partitions and time.monotonic() < deadline:
        rewind.poll(timeout_ms=200, max_records=1)
    assert len(rewind.assignment()) == len(TOPICS) * stack.partitions
    rewind.commit({tp: OffsetAndMetadata(0, "", -1) for tp in rewind.assignment()})
    rewind.close()
    worker = start_worker(stack)
    try:
        stats = worker.wait_processed(len(events) + 1, timeout=60)
    finally:
        worker.stop()
    assert stats["already_stored"] + stats["duplicates"] == len(events) + 1, stats
    assert stats["rows_written"] == 0
    assert table_rows(stack) == before
    assert sql(stack, "SELECT count() AS n FROM dead_letters")[0]["n"] in (1, "1")


def test_each_kind_of_bad_input_is_dead_lettered_with_its_reason(stack, start_worker):
    good = created("b1")
    bad = {
        "malformed json": (b"{\"event_id\": \"x\", ", "invalid_json", "invalid JSON"),
        "wrong types": (json.dumps({**good, "event_id": "w1", "priority": 3}).encode(), "schema", "priority"),
        "unknown type": (json.dumps({**good, "event_id": "w2", "type": "ticket.exploded"}).encode(), "unknown_type",
                         "ticket.exploded"),
        "missing account": (json.dumps({k: v for k, v in good.items() if k != "account_id"}).encode(), "schema",
                            "account_id: Field required"),
        "absurd timestamp": (json.dumps({**good, "event_id": "w3", "occurred_at": "1900-01-01T00:00:00Z"}).encode(),
                             "schema", "occurred_at"),
        "wrong topic": (json.dumps(event("rep.status_changed", rep_id="anna", status="away")).encode(),
                        "wrong_topic", "does not belong"),
    }
    produce(stack, [("tickets", b"b1", value) for value, _, _ in bad.values()] + encoded([good]))
    worker = start_worker(stack)
    try:
        stats = worker.wait_processed(len(bad) + 1, timeout=60)
    finally:
        worker.stop()
    assert stats["dead_lettered"] == len(bad) and stats["events"] == 1
    stored = {r["raw"]: r for r in sql(stack, "SELECT reason_code, reason, raw, _offset FROM dead_letters")}
    for name, (value, code, fragment) in bad.items():
        row = stored[value.decode()]
        assert row["reason_code"] == code, name
        assert fragment in row["reason"], (name, row["reason"])
    messages = dead_letter_messages(stack, len(bad))
    assert sorted(m.value for m in messages) == sorted(v for v, _, _ in bad.values())
    assert all(dict(m.headers)["deskpulse.reason"] for m in messages)


def test_config_applied_by_the_cli_reaches_a_running_worker(stack, tmp_path, start_worker):
    import urllib.request

    worker = start_worker(stack)
    try:
        config_file = tmp_path / "acme.yaml"
        config_file.write_text("account_id: acme\ntimezone: Europe/Stockholm\npipelines:\n"
                               "  - {id: support, stages: [{id: open}, {id: done, closed: true}]}\n")
        out = deskpulse("--broker", stack.broker, "--topic-prefix", stack.topic_prefix, "config", "apply",
                        str(config_file)).stdout
        assert "applied the configuration of acme" in out
        wait_until(lambda: config_applied(worker, "acme"), 30, "the configuration to be applied")
        with urllib.request.urlopen(f"{worker.web}/config/acme", timeout=5) as response:
            assert json.loads(response.read())["config"]["timezone"] == "Europe/Stockholm"
        # The new pipeline decides what is closed, without a restart.
        events = [created("cfg1"), event("ticket.updated", ticket_id="cfg1", status="done",
                                         at="2026-11-02T12:00:00+00:00")]
        produce(stack, encoded(events))
        worker.wait_processed(3, timeout=60)
        rows = sql(stack, "SELECT is_closed, is_open FROM tickets_current WHERE ticket_id = 'cfg1'")
    finally:
        worker.stop()
    assert rows == [{"is_closed": True, "is_open": False}]
