"""`deskpulse demo`: embedded broker, worker and simulated traffic, stopped cleanly."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from deskpulse.embedded_broker import EmbeddedBroker, free_port

from streams.worker.kafka_admin import ensure_topics
from streams.worker.settings import Settings
from deskpulse.simulator.model import Simulation
from deskpulse.simulator.produce import Produced, live, make_producer, send_all

# Short group timeouts: a join waits about half the rebalance timeout.
FAST_GROUP_ENV = {
    "DESKPULSE_SESSION_TIMEOUT_MS": "6000",
    "DESKPULSE_REBALANCE_TIMEOUT_MS": "4000",
}


class WorkerProcess:
    """`deskpulse worker` as a child process, with its web endpoints."""

    def __init__(self, settings: Settings, web_port: int, log_path: Path, env: dict[str, str] | None = None):
        self.settings = settings
        self.web = f"http://127.0.0.1:{web_port}"
        self.web_port = web_port
        self.log_path = log_path
        self.env = {**os.environ, **FAST_GROUP_ENV, "DESKPULSE_GROUP_ID": settings.group_id,
                    "DESKPULSE_PARTITIONS": str(settings.partitions), **(env or {})}
        self.process: subprocess.Popen | None = None

    def start(self) -> WorkerProcess:
        args = [sys.executable, "-m", "deskpulse", "--data-dir", str(self.settings.data_dir),
                "--broker", str(self.settings.broker), "--topic-prefix", self.settings.topic_prefix]
        if self.settings.clickhouse:
            args += ["--clickhouse", self.settings.clickhouse]
        args += ["worker", "--web-port", str(self.web_port), "--loglevel", os.environ.get("DESKPULSE_LOGLEVEL", "warn")]
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                            env=self.env, start_new_session=True)
        return self

    def stats(self) -> dict | None:
        try:
            with urllib.request.urlopen(f"{self.web}/stats", timeout=5) as response:
                return json.loads(response.read())
        except OSError:
            return None

    def wait_ready(self, timeout: float = 90.0, *, restored: bool = False) -> dict:
        """Until the worker answers; with `restored`, until its partitions are assigned and restored too."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process and self.process.poll() is not None:
                raise RuntimeError(f"the worker exited (code {self.process.returncode}); see {self.log_path}")
            stats = self.stats()
            if stats is not None and (not restored or stats.get("ready")):
                return stats
            time.sleep(0.2)
        raise RuntimeError(f"the worker did not come up within {timeout:.0f}s; see {self.log_path}")

    def wait_processed(self, records: int, timeout: float) -> dict:
        """Until the worker has committed at least `records` records (valid, bad or duplicate)."""
        deadline = time.monotonic() + timeout
        stats: dict = {}
        while time.monotonic() < deadline:
            stats = self.stats() or stats
            if stats.get("records", 0) >= records:
                return stats
            if self.process and self.process.poll() is not None:
                raise RuntimeError(f"the worker exited (code {self.process.returncode}); see {self.log_path}")
            time.sleep(0.1)
        raise RuntimeError(f"the worker processed {stats.get('records', 0)} of {records} records in {timeout:.0f}s")

    def stop(self, timeout: float = 30.0) -> int:
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else 0
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def _stored_ticket_events(settings: Settings) -> int:
    from sinks.clickhouse import Warehouse
    from sinks.migrate import migrate

    warehouse = Warehouse.open(settings.clickhouse_dsn)
    try:
        migrate(warehouse, settings.clickhouse_cluster)
        return int(warehouse.command("SELECT count() FROM ticket_events"))
    finally:
        warehouse.close()


def run_demo(settings: Settings, *, duration: float | None, seed: int, rate: float, history_days: float,
             bad_ratio: float, web_port: int | None, echo: Callable[[str], None], fresh: bool = False) -> int:
    if fresh and settings.clickhouse is None:
        shutil.rmtree(settings.data_dir / "clickhouse", ignore_errors=True)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    # A second demo on the same data continues it instead of seeding a second,
    # overlapping week of history (which would double every figure).
    seed_history = _stored_ticket_events(settings) == 0
    logs = settings.data_dir / "logs"
    logs.mkdir(exist_ok=True)
    broker = None
    if settings.broker is None:
        broker = EmbeddedBroker(log_path=logs / "broker.log").start()
        settings = settings.with_overrides(broker=broker.url)
    worker = None
    stop = threading.Event()
    # SIGINT too: a demo started from a script may have inherited "ignore SIGINT".
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        ensure_topics(settings.bootstrap, settings.topic_prefix, settings.partitions)
        worker = WorkerProcess(settings, web_port or free_port(), logs / "worker.log").start()
        echo(f"broker      {settings.broker}" + (" (embedded Tansu, in memory)" if broker else ""))
        echo(f"clickhouse  {settings.clickhouse_dsn}")
        echo(f"worker      pid {worker.process.pid}; {worker.web}/stats  {worker.web}/metrics")  # type: ignore[union-attr]
        echo(f"dashboard   {worker.web}/dashboard/acme  (also /dashboard/globex)")
        echo(f"live JSON   {worker.web}/api/accounts/acme/summary")
        echo(f"logs        {logs}/")
        echo(f"query       deskpulse --data-dir {settings.data_dir} sql \"SELECT count() FROM ticket_events\"")
        worker.wait_ready()

        producer = make_producer(settings.bootstrap)
        rng = random.Random(seed ^ 0x5EED)
        produced = Produced()
        now = datetime.now(UTC)
        if seed_history:
            sim = Simulation(seed, now - timedelta(days=history_days))
            send_all(producer, settings, sim.events(now), bad_ratio=bad_ratio, rng=rng, stats=produced)
            producer.flush()
            echo(f"history     {produced.events} events for the last {history_days:g} days")
        else:
            # Mixed with the time: the same seed would repeat the stored events' ids.
            sim = Simulation(seed ^ int(now.timestamp()), now)
            echo("history     kept from the previous demo in this data dir (--fresh starts over)")
        echo(f"live        ~{rate:g} events/s" + (f" for {duration:g}s" if duration else " (Ctrl-C to stop)"))
        if duration:
            threading.Timer(duration, stop.set).start()
        send_all(producer, settings, live(sim, stop, rate), bad_ratio=bad_ratio, rng=rng, stats=produced)
        producer.flush()
        producer.close()

        stats = worker.wait_processed(produced.events, timeout=120)
        code = worker.stop()
        worker = None
        echo(f"produced    {produced.events} events ({produced.bad} malformed on purpose)")
        echo(f"processed   {stats['events']} events, {stats['dead_lettered']} dead-lettered, "
             f"{stats['duplicates']} duplicates dropped")
        from sinks.clickhouse import Warehouse

        warehouse = Warehouse.open(settings.clickhouse_dsn)
        try:
            echo("rows        " + ", ".join(f"{t}={n}" for t, n in warehouse.table_counts().items()
                                            if t != "schema_migrations"))
        finally:
            warehouse.close()
        return 0 if code == 0 else code
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        stop.set()
        if worker is not None:
            worker.stop()
        if broker is not None:
            broker.stop()
