"""A restart gives the same answers as before it, even on a fresh embedded broker (issue 10, finding 8).

The embedded broker keeps its data in memory: a second `make demo` on the
same data dir starts an empty one. Configurations and the history the live
summary needs must come back from ClickHouse.
"""

from __future__ import annotations

import uuid

from deskpulse.account_config import example
from deskpulse.embedded_broker import EmbeddedBroker
from streams.worker.kafka_admin import ensure_topics
from tests.support.live import get, todays_events
from tests.support.pipeline import config_applied, encoded, produce, publish_config, worker_ready
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
