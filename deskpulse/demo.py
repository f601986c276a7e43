"""`deskpulse demo`: embedded broker, worker and simulated traffic, stopped cleanly."""

from __future__ import annotations

import random
import shutil
import signal
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from deskpulse.embedded_broker import EmbeddedBroker, free_port
from deskpulse.simulator.model import Simulation
from deskpulse.simulator.produce import Produced, live, make_producer, send_all
from deskpulse.worker_process import WorkerProcess
from streams.worker.kafka_admin import ensure_topics
from streams.worker.settings import Settings


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
