"""`make bench`: worker throughput end to end, against a ceiling measured in the same run.

Ceiling: a bare aiokafka consumer reading the same records and json.loads-ing
each one (no validation, no sink). Pipeline: the real worker process, from
its first consumed record to its last offset commit after the ClickHouse
insert. Both read the same topics of the same broker on this machine.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiokafka import AIOKafkaConsumer
from rich.console import Console

from deskpulse.embedded_broker import EmbeddedBroker, free_port
from deskpulse.simulator.model import Simulation
from deskpulse.simulator.produce import make_producer, route
from deskpulse.worker_process import WorkerProcess
from schemas.topics import TOPICS
from streams.worker.kafka_admin import ensure_topics
from streams.worker.settings import Settings

PIPELINE_GOAL = 30_000  # events/s with facts on, on the development machine (issue 13)


def generate(n: int, seed: int = 42) -> list[tuple[str, bytes, bytes]]:
    """At least n simulated events as (logical topic, key, value), in time order."""
    sim = Simulation(seed, datetime(2026, 1, 5, tzinfo=UTC), intensity=20.0)
    out: list[tuple[str, bytes, bytes]] = []
    day = sim.now
    while len(out) < n:
        day += timedelta(days=1)
        for event in sim.events(day):
            topic, key = route(event)
            out.append((topic, key, json.dumps(event, separators=(",", ":")).encode()))
    return out


async def ceiling(bootstrap: str, topics: list[str], n: int) -> float:
    consumer = AIOKafkaConsumer(*topics, bootstrap_servers=bootstrap, group_id=f"bench-ceiling-{uuid.uuid4().hex}",
                                auto_offset_reset="earliest", enable_auto_commit=False,
                                max_partition_fetch_bytes=8 * 1024 * 1024, fetch_max_bytes=64 * 1024 * 1024)
    await consumer.start()
    try:
        seen, first = 0, None
        while seen < n:
            batch = await consumer.getmany(timeout_ms=200, max_records=20_000)
            if batch and first is None:
                first = time.perf_counter()
            for records in batch.values():
                for record in records:
                    json.loads(record.value)
                seen += len(records)
        assert first is not None
        return n / (time.perf_counter() - first)
    finally:
        await consumer.stop()


def run_bench(settings: Settings, n: int, echo: Callable[[str], None], alert_tickets: int = 200,
              faust_agent: bool = False, memory_tickets: int = 0) -> int:
    workdir = Path(tempfile.mkdtemp(prefix="deskpulse-bench-"))
    broker = None
    try:
        if settings.broker is None:
            broker = EmbeddedBroker(log_path=workdir / "broker.log").start()
            settings = settings.with_overrides(broker=broker.url)
        # A fresh prefix and ClickHouse: the run measures exactly these records.
        settings = settings.with_overrides(topic_prefix=f"bench{uuid.uuid4().hex[:6]}.", data_dir=workdir,
                                           clickhouse=f"chdb://{workdir / 'clickhouse'}")
        ensure_topics(settings.bootstrap, settings.topic_prefix, settings.partitions)

        status = Console(stderr=True).status  # a spinner on stderr while setting up; the figures stay on stdout
        started = time.perf_counter()
        with status(f"bench: generating and producing {n:,} events"):
            records = generate(n)
            producer = make_producer(settings.bootstrap)
            for topic, key, value in records:
                producer.send(settings.topic(topic), key=key, value=value)
            producer.flush()
            producer.close()
        total = len(records)
        echo(f"bench: {total} events generated and produced in {time.perf_counter() - started:.1f}s "
             f"({settings.partitions} partitions per topic)")

        topics = [settings.topic(t.name) for t in TOPICS]
        with status("bench: measuring the ceiling (a bare consumer)"):
            ceiling_rate = asyncio.run(ceiling(settings.bootstrap, topics, total))
        echo(f"bench: ceiling (aiokafka getmany + json.loads) {ceiling_rate:,.0f} ev/s")
        if faust_agent:
            from deskpulse.bench_faust import agent_rate

            rate = agent_rate(str(settings.broker), topics, total, workdir)
            echo(f"bench: faust-agent={rate:.0f} ev/s ceiling={ceiling_rate:.0f} ev/s ratio={rate / ceiling_rate:.3f}")
            return 0

        worker = WorkerProcess(settings, free_port(), workdir / "worker.log").start()
        try:
            with status("bench: the worker processes every record"):
                worker.wait_ready()
                stats = worker.wait_processed(total, timeout=600)
        finally:
            worker.stop()
        elapsed = stats["last_commit_at"] - stats["first_record_at"]
        pipeline_rate = total / elapsed
        echo(f"bench: pipeline {stats['records']} records, {stats['rows_written']} rows in {elapsed:.2f}s, "
             f"{stats['flushes']} flushes")
        echo(f"bench: pipeline={pipeline_rate:.0f} ev/s ceiling={ceiling_rate:.0f} ev/s "
             f"ratio={pipeline_rate / ceiling_rate:.2f}")
        # The event loop is the worker's limit: its CPU per event is steadier from run to run than the rate.
        loop_cpu = stats["loop_cpu_at_last_commit"] - stats["loop_cpu_at_first_record"]
        echo(f"bench: event loop busy {loop_cpu / elapsed:.0%} of the run, {loop_cpu / total * 1e6:.1f} us of its "
             "CPU per event")
        # Said outright, as bench-memory does: the rate moves with the machine (the ceiling shows how much).
        verdict = "met" if pipeline_rate >= PIPELINE_GOAL else "not met"
        echo(f"bench: goal (pipeline >= {PIPELINE_GOAL:,} ev/s) {verdict}")
        if memory_tickets:
            from deskpulse.bench_memory import run_memory_bench

            with status(f"bench: loading {memory_tickets:,} tickets of history and restoring a worker on them"):
                run_memory_bench(settings, workdir, memory_tickets, echo)
        if alert_tickets:
            from deskpulse.bench_alerts import run_alert_bench

            alert_settings = settings.with_overrides(topic_prefix=f"alerts{uuid.uuid4().hex[:6]}.",
                                                     data_dir=workdir / "alerts",
                                                     clickhouse=f"chdb://{workdir / 'alerts' / 'clickhouse'}")
            ensure_topics(alert_settings.bootstrap, alert_settings.topic_prefix, alert_settings.partitions)
            run_alert_bench(alert_settings, workdir, alert_tickets, 1000.0, echo)
        return 0
    finally:
        if broker is not None:
            broker.stop()
        shutil.rmtree(workdir, ignore_errors=True)
