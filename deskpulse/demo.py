"""`deskpulse demo`: embedded broker, worker and simulated traffic, stopped cleanly."""

from __future__ import annotations

import random
import shutil
import signal
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn

from deskpulse.data_dir import hint
from deskpulse.embedded_broker import EmbeddedBroker, free_port
from deskpulse.simulator.model import Simulation
from deskpulse.simulator.produce import Produced, live, make_producer, send_all
from deskpulse.worker_process import WorkerProcess, total_lag
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


def _counted(events: Iterator[dict], progress: Progress, task: TaskID) -> Iterator[dict]:
    for n, event in enumerate(events, 1):
        if n % 2000 == 0:
            progress.update(task, completed=n)
        yield event


def _caught_up(worker: WorkerProcess, produced: int, progress: Progress) -> dict:
    """Until the worker has taken every produced record, with a bar: records, events/s and lag."""
    task = progress.add_task("worker", total=produced)
    last = [time.monotonic(), 0]  # when and how many at the previous /stats answer

    def show(stats: dict) -> None:
        now, records = time.monotonic(), stats.get("records", 0)
        rate = (records - last[1]) / max(now - last[0], 1e-3)
        last[:] = [now, records]
        progress.update(task, completed=records, description=f"worker  {rate:>8,.0f} ev/s  lag {total_lag(stats):,}")

    return worker.wait_processed(produced, timeout=600, progress=show, every=0.5)


def _status_lines(worker: WorkerProcess, produced: Produced, stop: threading.Event, echo: Callable[[str], None],
                  every: float) -> None:
    """While live: one line every `every` seconds, so a quiet terminal still says what is going on."""
    while not stop.wait(every):
        stats = worker.stats()
        if stats is None:
            echo(f"live        {datetime.now():%H:%M:%S}  the worker does not answer; see its log")
            continue
        echo(f"live        {datetime.now():%H:%M:%S}  produced {produced.events:,}  processed "
             f"{stats.get('records', 0):,}  lag {total_lag(stats):,}  dead-lettered {stats.get('dead_lettered', 0):,}")


def run_demo(settings: Settings, *, duration: float | None, seed: int, rate: float, history_days: float,
             bad_ratio: float, web_port: int | None, echo: Callable[[str], None], fresh: bool = False,
             status_every: float = 15.0) -> int:
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
    console = Console(highlight=False)
    try:
        ensure_topics(settings.bootstrap, settings.topic_prefix, settings.partitions)
        worker = WorkerProcess(settings, web_port or free_port(), logs / "worker.log").start()
        echo(f"broker      {settings.broker}" + (" (embedded Tansu, in memory)" if broker else ""))
        echo(f"clickhouse  {settings.clickhouse_dsn}")
        echo(f"worker      pid {worker.process.pid}; {worker.web}/stats  {worker.web}/metrics")  # type: ignore[union-attr]
        echo(f"dashboard   {worker.web}/dashboard/acme  (also /dashboard/globex)")
        echo(f"AI agent    {worker.web}/dashboard/acme#agent  (its figures and the knowledge gaps)")
        echo(f"live JSON   {worker.web}/api/accounts/acme/summary")
        echo(f"logs        {logs}/")
        echo(f"query       {hint(settings, 'sql', 'SELECT count() FROM ticket_events')}")
        echo(f"report      {hint(settings, 'report', 'tickets-created', '--account', 'acme', '--freq', 'day')}")
        worker.wait_ready()

        producer = make_producer(settings.bootstrap)
        rng = random.Random(seed ^ 0x5EED)
        produced = Produced()
        now = datetime.now(UTC)
        if seed_history:
            sim = Simulation(seed, now - timedelta(days=history_days))
            with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                          TextColumn("{task.completed:,} events"), TimeElapsedColumn(), console=console) as progress:
                task = progress.add_task(f"history of {history_days:g} days", total=None)
                send_all(producer, settings, _counted(sim.events(now), progress, task), bad_ratio=bad_ratio, rng=rng,
                         stats=produced)
                producer.flush()
                progress.update(task, completed=produced.events, total=produced.events)
                _caught_up(worker, produced.events, progress)
            echo(f"history     {produced.events} events for the last {history_days:g} days")
        else:
            # Mixed with the time: the same seed would repeat the stored events' ids.
            sim = Simulation(seed ^ int(now.timestamp()), now)
            echo("history     kept from the previous demo in this data dir (--fresh starts over)")
        echo(f"live        ~{rate:g} events/s" + (f" for {duration:g}s" if duration else " (Ctrl-C to stop)"))
        if duration:
            threading.Timer(duration, stop.set).start()
        threading.Thread(target=_status_lines, args=(worker, produced, stop, echo, status_every), daemon=True).start()
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
        if code != 0:
            echo(f"the worker exited with code {code}; its log: {logs / 'worker.log'}")
        return 0 if code == 0 else code
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        stop.set()
        if worker is not None:
            worker.stop()
        if broker is not None:
            broker.stop()
