"""A restart gives the same answers as before it, even on a fresh embedded broker (issue 10, finding 8).

The embedded broker keeps its data in memory: a second `make demo` on the
same data dir starts an empty one. Configurations and the history the live
summary needs must come back from ClickHouse.
"""

from __future__ import annotations

import urllib.parse
import uuid

from deskpulse.account_config import example
from deskpulse.embedded_broker import EmbeddedBroker
from deskpulse.worker_process import total_lag
from streams.worker.kafka_admin import ensure_topics
from tests.support.live import events_end, get, todays_events
from tests.support.pipeline import config_applied, encoded, produce, publish_config, sql, worker_ready
from tests.support.waiting import wait_until


def _summary(worker) -> dict:
    status, body = get(f"{worker.web}/api/accounts/acme/summary")
    assert status == 200, body
    return body


def test_a_restart_on_a_fresh_embedded_broker_gives_the_same_answers(stack, start_worker, tmp_path):
    worker = start_worker(stack)
    publish_config(stack, example("acme"))
    wait_until(lambda: config_applied(worker, "acme") and worker_ready(worker), 60, "acme's configuration")
    events = todays_events("acme", "R")
    produce(stack, encoded(events))
    worker.wait_processed(len(events) + 1, timeout=60)
    before = _summary(worker)
    assert before["account_timezone"] == "Europe/Stockholm" and before["figures"]["new_tickets"]["today"] == 2
    worker.stop()

    with EmbeddedBroker(log_path=tmp_path / "second-broker.log") as fresh:  # empty: a new cluster id
        restarted = stack.with_overrides(broker=fresh.url, group_id=f"deskpulse-restart-{uuid.uuid4().hex[:6]}")
        ensure_topics(restarted.bootstrap, restarted.topic_prefix, restarted.partitions)
        again = start_worker(restarted)
        wait_until(lambda: worker_ready(again), 60, "the restarted worker")
        assert config_applied(again, "acme")  # from ClickHouse: the new broker has no configurations
        after = _summary(again)
        again.stop()
    assert after["account_timezone"] == before["account_timezone"]
    keep = ("figures", "by_channel", "by_priority", "availability", "sla")
    drop = {"customer_wait_now_s"}  # "now" moved on between the two answers
    for name in keep:
        a, b = before[name], after[name]
        if name == "figures":
            a = {k: v for k, v in a.items() if k not in drop}
            b = {k: v for k, v in b.items() if k not in drop}
        assert a == b, name


def test_a_store_per_worker_reads_back_what_another_worker_sank_between_its_own_rows(stack, start_worker):
    """Two workers with a chDB store each take turns on all partitions: A, B, A, B, then A again. A's store then
    holds the first and third parts; the second is a hole below its highest stored offset and the fourth its
    tail. Both are read back from the broker on the last start (`IngestService._read_gaps`), so A's live answer
    counts all four parts."""
    stores = [stack, stack.with_overrides(data_dir=stack.data_dir.parent / "other-store")]
    parts = [todays_events("acme", f"H{i}") for i in range(4)]
    for i, events in enumerate(parts):
        worker = start_worker(stores[i % 2])
        produce(stack, encoded(events))
        worker.wait_processed(len(events), timeout=60)
        wait_until(lambda w=worker: total_lag(w.stats()) == 0, 30, "its offsets committed")
        assert worker.stop() == 0
    again = start_worker(stores[0])
    wait_until(lambda: worker_ready(again), 60, "the worker back on its store")
    at = urllib.parse.quote(events_end([e for events in parts for e in events]))
    status, body = get(f"{again.web}/api/accounts/acme/summary?at={at}")
    assert status == 200, body
    figures = body["figures"]
    assert (figures["new_tickets"]["today"], figures["closed"]["today"], figures["calls_completed"]["today"]) == \
        (8, 4, 4), figures
    assert again.stop() == 0
    # what was read back is not written again: A's store holds its own two parts
    own = {e["event_id"] for events in parts[::2] for e in events if e["type"].startswith("ticket.")}
    assert {r["event_id"] for r in sql(stores[0], "SELECT event_id FROM ticket_events")} == own
