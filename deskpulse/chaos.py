"""`make chaos`: kill -9 the worker at random points under load, then check that nothing was lost or doubled.

In the style of Kafka Streams' exactly-once system test. The same simulated
traffic (the last hours up to now, so SLA alerts are real, not history) goes
to two topic prefixes of one broker. A clean worker processes one; the other
is processed by a worker that is killed with SIGKILL `kills` times at random
moments while the records are still being produced, and restarted each time.
Then:

- lost / duplicated: per produced event id, exactly one row in ClickHouse;
- alerts_duplicated: every SLA alert id on the alert topic once;
- facts_mismatch: tickets whose final `ticket_facts` differ from the clean run's.
"""

from __future__ import annotations

import json
import random
import shutil
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from kafka import KafkaConsumer

from deskpulse.embedded_broker import EmbeddedBroker, free_port
from deskpulse.simulator.model import Simulation
from deskpulse.simulator.produce import make_producer, route
from deskpulse.worker_process import WorkerProcess, total_lag
from schemas.topics import SLA_ALERTS_TOPIC
from sinks.clickhouse import Warehouse
from streams.worker.kafka_admin import ensure_topics
from streams.worker.settings import Settings

RAW_TABLES = ("ticket_events", "message_events", "feedback_events", "availability_events", "call_events",
              "agent_events", "config_events")
# What must agree between the runs (not when or in which version it was computed).
FACT_COLUMNS = ("ticket_id", "created_at", "status", "pipeline", "owner_id", "team_id", "priority", "channel",
                "category", "deleted", "first_response_at", "first_responder", "time_to_first_response_s",
                "time_to_first_response_sla_s", "closed_at", "time_to_close_s", "time_to_close_sla_s",
                "reopen_count", "waiting_since", "stages.stage", "stages.entered_at", "stages.left_at",
                "intervals.metric", "intervals.started_at", "intervals.ended_at", "intervals.seconds",
                "clocks.metric", "clocks.started_at", "clocks.due_at", "clocks.stopped_at")


@dataclass
class ChaosResult:
    kills: int
    events: int
    lost: int
    duplicated: int
    alerts: int
    alerts_duplicated: int
    tickets: int
    facts_mismatch: int

    @property
    def ok(self) -> bool:
        return not (self.lost or self.duplicated or self.alerts_duplicated or self.facts_mismatch)

    def line(self) -> str:
        return (f"chaos: kills={self.kills} events={self.events} lost={self.lost} duplicated={self.duplicated} "
                f"alerts_duplicated={self.alerts_duplicated} facts_mismatch={self.facts_mismatch}")


def recent_traffic(n: int, seed: int) -> list[tuple[str, bytes, bytes, str]]:
    """About n simulated events ending now (the accounts' configurations first), as (topic, key, value, id)."""
    now = datetime.now(UTC)
    hours = 1.0
    while True:
        events = list(Simulation(seed, now - timedelta(hours=hours), intensity=40.0).events(now))
        if sum(1 for e in events if e["type"] != "config.updated") >= n or hours > 24 * 14:
            break
        hours *= 2
    configs = [e for e in events if e["type"] == "config.updated"]
    rest = [e for e in events if e["type"] != "config.updated"][-n:]
    out = []
    for event in configs + rest:
        topic, key = route(event)
        out.append((topic, key, json.dumps(event, separators=(",", ":")).encode(), event["event_id"]))
    return out


def _produce(settings: Settings, records, pace: float = 0.0) -> None:
    producer = make_producer(settings.bootstrap)
    for i, (topic, key, value, _) in enumerate(records):
        producer.send(settings.topic(topic), key=key, value=value)
        if pace and i % 500 == 499:
            producer.flush()
            time.sleep(pace)
    producer.flush()
    producer.close()


def _stored(settings: Settings) -> tuple[Counter, list[tuple]]:
    warehouse = Warehouse.open(settings.clickhouse_dsn)
    try:
        counts: Counter = Counter()
        for table in RAW_TABLES:
            for event_id, n in warehouse.query(f"SELECT event_id, count() FROM {table} GROUP BY event_id"
                                               ).result_rows:
                counts[event_id] += n
        facts = warehouse.query("SELECT " + ", ".join(f"`{c}`" for c in FACT_COLUMNS)
                                + " FROM ticket_facts FINAL ORDER BY ticket_id").result_rows
        return counts, facts
    finally:
        warehouse.close()


def _alert_ids(settings: Settings) -> list[str]:
    consumer = KafkaConsumer(settings.topic(SLA_ALERTS_TOPIC), bootstrap_servers=settings.bootstrap, group_id=None,
                             auto_offset_reset="earliest", consumer_timeout_ms=3000)
    try:
        return [json.loads(r.value)["alert_id"] for r in consumer]
    finally:
        consumer.close()


def _run_to_end(settings: Settings, workdir: Path, name: str) -> None:
    """A worker that processes everything there is (nothing left to commit, twice in a row), then stops."""
    worker = WorkerProcess(settings, free_port(), workdir / f"{name}.log").start()
    try:
        worker.wait_ready(timeout=120, restored=True)
        deadline, quiet = time.monotonic() + 600, 0
        while time.monotonic() < deadline and quiet < 2:
            time.sleep(1.0)
            stats = worker.stats() or {}
            quiet = quiet + 1 if stats.get("ready") and stats.get("lag") and not total_lag(stats) else 0
        time.sleep(2.0)  # alerts whose thresholds just passed
    finally:
        worker.stop()


def _differing_columns(ours: tuple | None, theirs: tuple | None) -> str:
    if ours is None or theirs is None:
        return "only in the " + ("clean" if ours is None else "chaos") + " run"
    pairs = zip(FACT_COLUMNS, ours, theirs, strict=True)
    return ", ".join(f"{c}: chaos={a!r} clean={b!r}" for c, a, b in pairs if a != b)


def run_chaos(settings: Settings, *, kills: int, events: int, seed: int, echo: Callable[[str], None],
              workdir: Path | None = None) -> ChaosResult:
    own_dir = workdir is None
    workdir = workdir or Path(tempfile.mkdtemp(prefix="deskpulse-chaos-"))
    broker = None
    rng = random.Random(seed)
    try:
        if settings.broker is None:
            broker = EmbeddedBroker(log_path=workdir / "broker.log").start()
            settings = settings.with_overrides(broker=broker.url)
        run = uuid.uuid4().hex[:6]
        clean = settings.with_overrides(topic_prefix=f"clean{run}.", data_dir=workdir / "clean", clickhouse=None,
                                        group_id=f"chaos-clean-{run}")
        chaos = settings.with_overrides(topic_prefix=f"chaos{run}.", data_dir=workdir / "chaos", clickhouse=None,
                                        group_id=f"chaos-{run}")
        for s in (clean, chaos):
            ensure_topics(s.bootstrap, s.topic_prefix, s.partitions)
        records = recent_traffic(events, seed)
        echo(f"chaos: {len(records)} events; clean run first")
        _produce(clean, records)
        _run_to_end(clean, workdir, "clean")

        # The chaos run: records keep arriving while the worker is killed and restarted (spread over about
        # the time the kills take: a start is ~5 s, then up to 4 s of work before the kill).
        pace = max(0.05, kills * 7.0 / max(len(records) / 500, 1))
        producing = threading.Thread(target=_produce, args=(chaos, records, pace), daemon=True)
        producing.start()
        done = 0
        while done < kills:
            worker = WorkerProcess(chaos, free_port(), workdir / "chaos.log").start()
            try:
                worker.wait_ready(timeout=120)
            except RuntimeError:
                worker.kill()
                raise
            time.sleep(rng.uniform(0.5, 4.0))  # anywhere: restoring, consuming, flushing, committing
            worker.kill()
            done += 1
            echo(f"chaos: kill {done}/{kills}")
        producing.join()
        _run_to_end(chaos, workdir, "chaos-final")

        produced = {r[3] for r in records}
        counts, facts = _stored(chaos)
        _, clean_facts = _stored(clean)
        lost = sum(1 for e in produced if counts.get(e, 0) == 0)
        duplicated = sum(n - 1 for e, n in counts.items() if n > 1)
        alerts = _alert_ids(chaos)
        alert_counts = Counter(alerts)
        ours = {row[0]: row for row in facts}
        theirs = {row[0]: row for row in clean_facts}
        differing = sorted(t for t in set(ours) | set(theirs) if ours.get(t) != theirs.get(t))
        mismatch = len(differing)
        for ticket in differing[:5]:  # enough to start looking; the data dirs are kept with --workdir
            echo(f"chaos: facts differ for {ticket}: {_differing_columns(ours.get(ticket), theirs.get(ticket))}")
        result = ChaosResult(kills, len(records), lost, duplicated, len(alerts),
                             sum(n - 1 for n in alert_counts.values()), len(theirs), mismatch)
        echo(f"chaos: {result.tickets} tickets, {result.alerts} alerts raised")
        echo(result.line())
        return result
    finally:
        if broker is not None:
            broker.stop()
        if own_dir:
            shutil.rmtree(workdir, ignore_errors=True)
