"""`make bench`, second part: SLA alert latency, from a clock's threshold to its alert.

A fresh worker runs while the simulator produces live traffic at a steady
rate (the load); meanwhile tickets of a bench account whose SLA allows a few
seconds are created one by one, so their due-soon and overdue thresholds fall
all through the run. Latency is measured on the reader's side: when the alert
record arrived minus the threshold it reports (same machine, same clock).
"""

from __future__ import annotations

import json
import statistics
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from kafka import KafkaConsumer

from deskpulse.account_config import config_event, load
from deskpulse.embedded_broker import free_port
from deskpulse.simulator.model import Simulation
from deskpulse.simulator.produce import live, make_producer, route, send_all
from deskpulse.worker_process import WorkerProcess
from schemas.alerts import SlaAlert
from schemas.topics import SLA_ALERTS_TOPIC
from streams.worker.settings import Settings

BENCH_SLA = """
account_id: slabench
timezone: UTC
sla:
  hours: 24/7
  all: {first_response: 0.1, due_soon: 0.05}   # due soon after 3 s, due after 6 s
"""


def run_alert_bench(settings: Settings, workdir, tickets: int, rate: float, echo: Callable[[str], None]) -> None:
    producer = make_producer(settings.bootstrap)
    config = load(BENCH_SLA)
    producer.send(settings.topic("config"), key=b"slabench", value=json.dumps(config_event(config)).encode())
    producer.flush()
    worker = WorkerProcess(settings, free_port(), workdir / "worker-alerts.log").start()
    stop = threading.Event()
    try:
        worker.wait_ready(restored=True)
        reader = KafkaConsumer(settings.topic(SLA_ALERTS_TOPIC), bootstrap_servers=settings.bootstrap,
                               auto_offset_reset="latest", group_id=None, consumer_timeout_ms=100)
        reader.poll(timeout_ms=500)  # join at the end of the topic
        load_thread = threading.Thread(target=_load, args=(settings, rate, stop), daemon=True)
        load_thread.start()
        latencies: list[float] = []
        load_started = time.monotonic()
        spacing = 20.0 / tickets  # tickets over 20 s
        next_ticket, made = time.monotonic(), 0
        deadline = time.monotonic() + 20.0 + 15.0
        while time.monotonic() < deadline and len(latencies) < 2 * tickets:
            if made < tickets and time.monotonic() >= next_ticket:
                event = {"event_id": uuid.uuid4().hex, "type": "ticket.created", "account_id": "slabench",
                         "occurred_at": datetime.now(UTC).isoformat(timespec="milliseconds"), "schema_version": 1,
                         "ticket_id": f"b{made}", "channel": "chat", "priority": "high"}
                topic, key = route(event)
                producer.send(settings.topic(topic), key=key, value=json.dumps(event).encode())
                producer.flush()
                made += 1
                next_ticket += spacing
            for record in reader:
                alert = SlaAlert.model_validate_json(record.value)
                if alert.account_id == "slabench":
                    latencies.append(time.time() - alert.threshold_at.timestamp())
        stop.set()
        load_thread.join()
        reader.close()
        stats = worker.stats() or {}
        load_seconds = time.monotonic() - load_started
    finally:
        stop.set()
        worker.stop()
        producer.close()
    latencies.sort()
    if not latencies:
        echo("bench-alerts: no alerts arrived")
        return
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000
    events = stats.get("events", 0)
    echo(f"bench-alerts: {len(latencies)} of {2 * tickets} alerts while the worker took {events} events of live "
         f"traffic in {load_seconds:.0f}s ({events / load_seconds:.0f} ev/s, aimed at {rate:.0f})")
    echo(f"bench-alerts: threshold->alert p50={p50:.0f} ms p99={p99:.0f} ms max={latencies[-1] * 1000:.0f} ms")


def _load(settings: Settings, rate: float, stop: threading.Event) -> None:
    producer = make_producer(settings.bootstrap)
    sim = Simulation(7, datetime.now(UTC))
    try:
        send_all(producer, settings, live(sim, stop, rate=rate))
    finally:
        producer.close()
