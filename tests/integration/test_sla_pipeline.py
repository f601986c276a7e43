"""Ticket facts and SLA alerts end to end: real Tansu broker, real chDB, real worker processes."""

from __future__ import annotations

import json
import re
import threading
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from kafka import KafkaConsumer

from deskpulse.account_config import example, load
from deskpulse.embedded_broker import free_port
from schemas.alerts import SlaAlert
from schemas.topics import SLA_ALERTS_TOPIC
from tests.support.cli import deskpulse
from tests.support.events import created, event
from tests.support.pipeline import config_applied, encoded, produce, publish_config, sql, worker_ready
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration

# 24/7 SLA with targets of seconds, so the alert tests run in real time.
FAST_SLA = """
account_id: fast
timezone: UTC
sla:
  hours: 24/7
  by: priority
  targets:
    urgent: {first_response: 0.1, due_soon: 0.05}   # due 6 s after creation, due soon after 3 s
    high:   {first_response: 0.4, due_soon: 0.2}    # due after 24 s, due soon after 12 s
    low:    {enabled: false}
"""


class AlertReader:
    """Reads the sla-alerts topic as it grows, noting when each record arrived."""

    def __init__(self, settings) -> None:
        self.consumer = KafkaConsumer(settings.topic(SLA_ALERTS_TOPIC), bootstrap_servers=settings.bootstrap,
                                      auto_offset_reset="earliest", group_id=None, consumer_timeout_ms=200)
        self.alerts: list[tuple[SlaAlert, float]] = []

    def poll(self) -> list[tuple[SlaAlert, float]]:
        for record in self.consumer:
            self.alerts.append((SlaAlert.model_validate_json(record.value), time.time()))
        return self.alerts

    def ids(self) -> list[str]:
        return [a.alert_id for a, _ in self.poll()]

    def close(self) -> None:
        self.consumer.close()


class Webhook:
    """A real HTTP endpoint that fails its first POST (the worker must retry)."""

    def __init__(self) -> None:
        self.bodies: list[dict] = []
        self.failed = 0
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if hook.failed == 0:
                    hook.failed += 1
                    self.send_response(500)
                else:
                    hook.bodies.append({**json.loads(body), "key": self.headers["Idempotency-Key"]})
                    self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/alerts"

    def close(self) -> None:
        self.server.shutdown()


def test_scripted_ticket_gives_exact_facts_across_a_restart(stack, start_worker):
    """acme's billing team works 08-12 and 13-18 Stockholm time (UTC+1 in November); priority high."""

    def at(hhmm: str) -> str:
        return f"2026-11-02T{hhmm}:00+00:00"  # a Monday, in UTC

    def msg(hhmm, direction, sender_type, sender):
        return event("message.created", at=at(hhmm), message_id=f"m{hhmm}", ticket_id="T1", direction=direction,
                     sender_type=sender_type, sender_id=sender, channel="email")

    def status(hhmm, value):
        return event("ticket.updated", at=at(hhmm), ticket_id="T1", status=value)

    first_half = [
        created("T1", at=at("08:00"), team_id="billing", priority="high"),
        msg("08:00", "inbound", "customer", "c9"),
        msg("08:01", "outbound", "bot", "helpbot"),  # a bot never counts as a response
        msg("08:05", "internal", "rep", "bo"),  # nor does an internal note
        msg("08:10", "inbound", "customer", "c9"),  # same series: the wait runs from 08:00
        msg("08:30", "outbound", "rep", "anna"),
        status("09:00", "waiting_on_contact"),
        msg("11:50", "inbound", "customer", "c9"),  # 12:50 local: lunch, not working time
    ]
    second_half = [
        msg("12:20", "outbound", "rep", "anna"),
        status("13:00", "closed"),
        status("15:00", "waiting_on_us"),  # reopened
        status("16:00", "closed"),  # 17:00 local: the final close
    ]
    publish_config(stack, example("acme"))
    worker = start_worker(stack)
    try:
        wait_until(lambda: config_applied(worker, "acme"), 30, "the acme configuration")
        produce(stack, encoded(list(reversed(first_half))))  # out of order on purpose
        worker.wait_processed(1 + len(first_half), timeout=60)
    finally:
        worker.kill()  # the next worker must rebuild the ticket from ClickHouse
    worker = start_worker(stack)
    try:
        wait_until(lambda: config_applied(worker, "acme"), 30, "the acme configuration")
        produce(stack, encoded(second_half))
        worker.wait_processed(len(second_half), timeout=60)
        facts = sql(stack, "SELECT first_response_at, first_responder, time_to_first_response_s, "
                           "time_to_first_response_sla_s, closed_at, time_to_close_s, time_to_close_sla_s, "
                           "reopen_count, waiting_since FROM ticket_facts_current WHERE ticket_id = 'T1'")
        intervals = sql(stack, "SELECT metric, started_at, ended_at, waiting, answered_by, first, seconds, "
                               "sla_seconds FROM reply_intervals WHERE ticket_id = 'T1' ORDER BY started_at")
        stages = sql(stack, "SELECT s.1 AS stage, s.2 AS entered, s.3 AS left, s.4 AS seconds, s.5 AS sla "
                            "FROM ticket_facts_current ARRAY JOIN arrayZip(`stages.stage`, `stages.entered_at`, "
                            "`stages.left_at`, `stages.seconds`, `stages.sla_seconds`) AS s WHERE ticket_id = 'T1'")
        clocks = sql(stack, "SELECT metric, started_at, due_at, stopped_at, state FROM sla_clocks "
                            "WHERE ticket_id = 'T1' ORDER BY metric, started_at")
    finally:
        assert worker.stop() == 0
    report = json.loads(deskpulse("--data-dir", str(stack.data_dir), "report", "time-to-close", "--account", "acme",
                                  "--by", "team", "--from", "2026-11-01", "--to", "2026-11-30", "--format",
                                  "json").stdout)
    assert [(r["period"], r["group"], r["tickets"], r["avg_time_to_close_s"], r["avg_time_to_close_sla_s"],
             r["reopens"]) for r in report] == [("2026-11-02", "billing", 1, 28800.0, 25200.0, 1)]
    assert facts == [{
        "first_response_at": "2026-11-02T08:30:00", "first_responder": "anna",
        "time_to_first_response_s": 1800.0, "time_to_first_response_sla_s": 1800.0,
        "closed_at": "2026-11-02T16:00:00", "time_to_close_s": 28800.0,
        "time_to_close_sla_s": 7 * 3600.0,  # 09-12 and 13-17 local
        "reopen_count": 1, "waiting_since": None,
    }]
    assert [(i["metric"], i["started_at"][11:16], i["ended_at"][11:16], i["waiting"], i["answered_by"], i["first"],
             i["seconds"], i["sla_seconds"]) for i in intervals] == [
        ("customer_wait", "08:00", "08:30", "c9", "anna", True, 1800.0, 1800.0),
        ("customer_reply", "08:30", "11:50", "anna", "c9", False, 12000.0, 9000.0),  # 09:30-12:00 local
        ("customer_wait", "11:50", "12:20", "c9", "anna", False, 1800.0, 1200.0),  # 13:00-13:20 local
        # anna's 12:20 reply opened a series the close at 13:00 ended unanswered: no interval
    ]
    assert {s["stage"]: (s["entered"][11:16], s["left"] and s["left"][11:16], s["seconds"], s["sla"])
            for s in stages} == {
        "new": ("08:00", "09:00", 3600.0, 3600.0),
        "waiting_on_contact": ("09:00", "13:00", 14400.0, 10800.0),  # lunch 12-13 local is not working time
        "closed": ("13:00", None, None, None),  # still closed: no end yet
        "waiting_on_us": ("15:00", "16:00", 3600.0, 3600.0),
    }
    # high: first response 1h, next response 2h, close 1d (24 working hours), on billing's office hours
    assert [(c["metric"], c["started_at"][11:16], c["due_at"][5:16], c["stopped_at"][11:16], c["state"])
            for c in clocks] == [
        ("first_response", "08:00", "11-02T09:00", "08:30", "completed_on_time"),
        ("next_response", "11:50", "11-02T14:00", "12:20", "completed_on_time"),
        ("time_to_close", "08:00", "11-04T15:00", "16:00", "completed_on_time"),  # 8 + 9 + 7 working hours
    ]


def test_alerts_arrive_once_on_time_across_kill_and_restart_and_reach_the_webhook(stack, start_worker):
    hook = Webhook()
    reader = AlertReader(stack)
    publish_config(stack, load(FAST_SLA))
    worker = start_worker(stack, DESKPULSE_WEBHOOK_URL=hook.url)
    try:
        wait_until(lambda: config_applied(worker, "fast") and worker_ready(worker), 60, "a ready worker")
        now = datetime.now(UTC)
        stamp = now.isoformat(timespec="milliseconds")
        urgent = [created(f"U{i}", at=stamp, priority="urgent") for i in range(8)]
        high = [created(f"H{i}", at=stamp, priority="high") for i in range(8)]
        low = [created(f"L{i}", at=stamp, priority="low") for i in range(3)]  # SLA off: no alerts
        # U0's customer writes as the ticket opens (a ticket whose first message is a rep's has no first
        # response until a customer writes: issue 10, finding 9d)
        asks = event("message.created", account="fast", at=stamp, message_id="q0", ticket_id="U0",
                     direction="inbound", sender_type="customer", sender_id="c1", channel="email")
        for e in urgent + high + low:
            e["account_id"] = "fast"
        produce(stack, encoded(urgent + high + low + [asks]))
        wait_until(lambda: len(reader.ids()) >= 16, 20, "due-soon and overdue alerts of the urgent tickets")
        # U0 gets its first reply after it was due: it completes late.
        reply = event("message.created", account="fast", at=datetime.now(UTC).isoformat(timespec="milliseconds"),
                      message_id="r0", ticket_id="U0", direction="outbound", sender_type="rep", sender_id="anna",
                      channel="email")
        produce(stack, encoded([reply]))
        wait_until(lambda: len(reader.ids()) >= 17, 20, "the completed-late alert")
        first_worker_alerts = list(reader.poll())
        with urllib.request.urlopen(f"{worker.web}/metrics", timeout=5) as response:
            exported = response.read().decode()
        gauge = {m[0]: float(m[1]) for m in re.findall(
            r'deskpulse_sla_clocks\{account_id="fast",metric="first_response",state="(\w+)"\} (\S+)', exported)}
        # running clocks by state: U1-U7 overdue, the 8 high-priority tickets not yet due
        assert gauge.get("overdue") == 7 and gauge.get("active", 0) + gauge.get("due_soon", 0) == 8, gauge
    finally:
        worker.kill()
    worker = start_worker(stack, DESKPULSE_WEBHOOK_URL=hook.url)
    try:
        wait_until(lambda: len(reader.ids()) >= 33, 60, "the high-priority tickets' alerts after the restart")
        time.sleep(3)  # anything raised twice would arrive now
        reader.poll()
        wait_until(lambda: len({b["alert_id"] for b in hook.bodies}) >= 33, 30, "every alert at the webhook")
        stats = worker.stats()
    finally:
        worker.stop()
        reader.close()
        hook.close()
    ids = [a.alert_id for a, _ in reader.alerts]
    assert len(ids) == len(set(ids)) == 33, sorted(ids)
    expected = {f"fast/{t}/first_response/{s}" for t in [e["ticket_id"] for e in urgent + high]
                for s in ("due_soon", "overdue")} | {"fast/U0/first_response/completed_late"}
    assert set(ids) == expected
    # On time: raised within a second of the threshold while the worker was up (first worker: all of them).
    latencies = sorted(a.latency_s for a, _ in first_worker_alerts)
    assert all(0 <= s < 1.0 for s in latencies), latencies
    received = [t - a.threshold_at.timestamp() for a, t in first_worker_alerts]
    assert max(received) < 1.5, received  # + the reader's poll interval
    alert = next(a for a, _ in first_worker_alerts if a.ticket_id == "U3" and a.state == "overdue")
    assert (alert.account_id, alert.metric, alert.priority, alert.due_at) == (
        "fast", "first_response", "urgent", now.replace(microsecond=now.microsecond // 1000 * 1000)
        + timedelta(seconds=6))
    # The webhook got every alert (its first POST failed and was retried), keyed for de-duplication.
    assert hook.failed == 1 and {b["key"] for b in hook.bodies} == expected
    assert stats["alerts"]["raised"] >= 1


def test_two_workers_sharing_the_partitions_alert_once(stack, start_worker):
    reader = AlertReader(stack)
    publish_config(stack, load(FAST_SLA))
    second = stack.with_overrides(data_dir=stack.data_dir.parent / "second")  # a worker has its own chDB
    a = start_worker(stack)
    b = start_worker(second)
    try:
        for w in (a, b):
            wait_until(lambda w=w: config_applied(w, "fast"), 30, "the configuration")
        wait_until(lambda: worker_ready(a) and worker_ready(b) and not set(a.stats()["assigned"])
                   & set(b.stats()["assigned"]), 60, "two workers sharing the partitions")
        stamp = datetime.now(UTC).isoformat(timespec="milliseconds")
        tickets = [created(f"S{i}", at=stamp, priority="urgent") for i in range(6)]
        tickets += [created(f"H{i}", at=stamp, priority="high") for i in range(6)]
        for e in tickets:
            e["account_id"] = "fast"
        produce(stack, encoded(tickets))
        wait_until(lambda: len(reader.ids()) >= 12, 20, "the urgent tickets' alerts")
        assert a.stats()["records"] > 0 and b.stats()["records"] > 0  # both had tickets
        assert b.stop() == 0  # its partitions move to a, which must go on with b's clocks
        wait_until(lambda: len(reader.ids()) >= 24, 60, "the high-priority tickets' alerts")
        time.sleep(3)
        reader.poll()
    finally:
        a.stop()
        b.stop()
        reader.close()
    ids = reader.ids()
    assert len(ids) == len(set(ids)) == 24, sorted(ids)
