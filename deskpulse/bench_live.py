"""`make bench-live`: from producing an event to seeing it in the live JSON API.

A fresh embedded stack; a steady 1,000 events/s for the probe run: 900/s of
simulated traffic plus 100/s probe tickets, created "now" for probe accounts
of 100 tickets each (so one API answer stays small). A poller reads the
drill-down list of the newest probe account's new tickets as fast as it
answers; a probe's latency is from just before it was produced to the first
answer that lists it.
"""

from __future__ import annotations

import json
import shutil
import statistics
import tempfile
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from deskpulse.bench import generate
from deskpulse.embedded_broker import EmbeddedBroker, free_port
from deskpulse.simulator.produce import make_producer, route
from deskpulse.worker_process import WorkerProcess
from streams.worker.kafka_admin import ensure_topics
from streams.worker.settings import Settings

RATE = 1000.0
PROBE_RATE = 100.0
PER_ACCOUNT = 100
# The simulated traffic goes out every tenth probe slot (0.1 s), as a producer with a linger would send it. Sent
# with every probe it made ten small batches per 10 ms, and the embedded broker's CPU grows with the
# batches its in-memory log holds: 14 -> 70 % of a core over a run, against 10 -> 29 % this way.
BACKGROUND_EVERY = 10


def run_bench_live(settings: Settings, probes: int, echo: Callable[[str], None]) -> int:
    workdir = Path(tempfile.mkdtemp(prefix="deskpulse-bench-live-"))
    broker = EmbeddedBroker(log_path=workdir / "broker.log").start()
    try:
        settings = settings.with_overrides(broker=broker.url, topic_prefix=f"live{uuid.uuid4().hex[:6]}.",
                                           data_dir=workdir, clickhouse=f"chdb://{workdir / 'clickhouse'}")
        ensure_topics(settings.bootstrap, settings.topic_prefix, settings.partitions)
        seconds = probes / PROBE_RATE
        background = generate(int((RATE - PROBE_RATE) * (seconds + 10)))
        worker = WorkerProcess(settings, free_port(), workdir / "worker.log").start()
        try:
            worker.wait_ready(restored=True)
            latencies = _run(settings, worker.web, background, probes)
            stats = worker.stats() or {}
        finally:
            worker.stop()
    finally:
        broker.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    seen = sorted(latencies)
    if len(seen) < probes:
        echo(f"bench-live: only {len(seen)} of {probes} probes were seen")
    if not seen:
        return 1
    p50 = statistics.median(seen) * 1000
    p99 = seen[min(len(seen) - 1, int(len(seen) * 0.99))] * 1000
    echo(f"bench-live: {len(seen)} probes at {RATE:.0f} events/s in all; worker consumed {stats.get('events', 0)} "
         f"events; max {seen[-1] * 1000:.0f} ms")
    answers = stats.get("live_answers", {})
    echo(f"bench-live: live API answers computed {answers.get('computed', 0)}, shared {answers.get('shared', 0)} "
         f"(nothing of the account had changed), held {answers.get('held', 0)} (expensive: docs/api.md)")
    echo(f"bench-live: p50={p50:.0f} ms p99={p99:.0f} ms")
    return 0


def _run(settings: Settings, web: str, background: list, probes: int) -> list[float]:
    producer = make_producer(settings.bootstrap)
    sent: dict[str, float] = {}
    seen: dict[str, float] = {}
    # Kept as probes come and go: rebuilt from `sent` on every poll it cost the bench process O(probes so far)
    # per request, more CPU the longer the run, taken from the worker on a small machine.
    pending: set[str] = set()
    done = threading.Event()
    lock = threading.Lock()

    def poll() -> None:
        while not done.is_set():
            with lock:
                accounts = sorted({_account(int(t[1:])) for t in pending})[:2]
            if not accounts:
                time.sleep(0.002)
                continue
            for account in accounts:
                url = f"{web}/api/accounts/{account}/tickets?figure=new_tickets&per_page=500"
                with urllib.request.urlopen(url, timeout=10) as response:
                    body = json.loads(response.read())
                now = time.monotonic()
                with lock:
                    for ticket in body.get("tickets", ()):
                        if ticket["ticket_id"] in pending:
                            seen[ticket["ticket_id"]] = now
                            pending.discard(ticket["ticket_id"])

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    started = time.monotonic()
    per_probe = RATE / PROBE_RATE  # events per probe slot, the probe included
    made, i = 0, 0
    while made < probes:
        due = started + made / PROBE_RATE
        delay = due - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        if made % BACKGROUND_EVERY == 0:
            for _ in range((int(per_probe) - 1) * BACKGROUND_EVERY):
                topic, key, value = background[i % len(background)]
                producer.send(settings.topic(topic), key=key, value=value)
                i += 1
        ticket = f"p{made}"
        event = {"event_id": uuid.uuid4().hex, "type": "ticket.created", "account_id": _account(made),
                 "occurred_at": datetime.now(UTC).isoformat(timespec="milliseconds"), "schema_version": 1,
                 "ticket_id": ticket, "channel": "chat"}
        topic, key = route(event)
        with lock:
            sent[ticket] = time.monotonic()
            pending.add(ticket)
        producer.send(settings.topic(topic), key=key, value=json.dumps(event).encode())
        producer.flush()
        made += 1
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        with lock:
            if len(seen) >= len(sent):
                break
        time.sleep(0.05)
    done.set()
    poller.join()
    producer.close()
    return [seen[t] - sent[t] for t in sent if t in seen]


def _account(probe: int) -> str:
    return f"probe{probe // PER_ACCOUNT}"
