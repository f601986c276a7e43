"""`make bench`, memory part (issue 13): a worker restoring a long history holds only what it needs.

A year of history (default one million tickets, 98 % closed, about eleven
messages each) is loaded straight into a chDB by the bench-reports loader,
each ticket's rows on the partition the producer's key hash gives it. A
worker then starts on that store with a new, empty broker: every stored row
is history. Printed: the tickets stored, the tickets the worker holds once
ready (closed tickets past the eviction horizon stay in ClickHouse), its
resident set size, and the restore time (partition assignment to ready).

The load runs in a child process: chDB opens one data path per process, and
the worker, another process, opens it next.
"""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path

from deskpulse.embedded_broker import free_port
from deskpulse.worker_process import WorkerProcess
from streams.worker.kafka_admin import ensure_topics
from streams.worker.settings import Settings

TEMPLATE_TICKETS = 10_000
CLOSED_SHARE = 0.98
RSS_GOAL_MB = 1024
RESTORE_GOAL_S = 30.0


def rss_mb(pid: int) -> float:
    """Resident set size of a process, from /proc (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def load(directory: Path, tickets: int, partitions: int) -> tuple[int, int]:
    """Fill a chDB at `directory` with `tickets` tickets (rounded to whole template copies); returns how many,
    and how many of them are open."""
    from deskpulse.bench_reports import load_history
    from sinks.clickhouse import Warehouse
    from sinks.migrate import migrate

    template = min(tickets, TEMPLATE_TICKETS)
    warehouse = Warehouse.open(f"chdb://{directory}")
    try:
        migrate(warehouse)
        stored, _ = load_history(warehouse, template, max(1, tickets // template), echo=_quiet,
                                 closed_share=CLOSED_SHARE, partitions=partitions)
        still_open = warehouse.query("SELECT countIf(closed_at IS NULL) FROM ticket_facts FINAL").result_rows[0][0]
    finally:
        warehouse.close()
    return stored, still_open


def _quiet(_: str) -> None:
    pass


def run_memory_bench(settings: Settings, workdir: Path, tickets: int, echo: Callable[[str], None]) -> dict:
    """Load, start a worker on the store, wait until it is ready; prints the bench-memory line."""
    directory = workdir / "memory"
    store = directory / "clickhouse"
    store.mkdir(parents=True, exist_ok=True)
    loaded = subprocess.run([sys.executable, "-m", "deskpulse.bench_memory", str(store), str(tickets),
                             str(settings.partitions)], capture_output=True, text=True, check=False)
    if loaded.returncode != 0:
        raise RuntimeError(f"loading the history failed: {loaded.stderr.strip().splitlines()[-1:]}")
    stored, still_open = (int(n) for n in loaded.stdout.split()[-2:])
    run = uuid.uuid4().hex[:6]  # its own topics and group: the pipeline run's worker may still be leaving
    settings = settings.with_overrides(topic_prefix=f"memory{run}.", group_id=f"deskpulse-memory-{run}",
                                       data_dir=directory, clickhouse=f"chdb://{store}")
    ensure_topics(settings.bootstrap, settings.topic_prefix, settings.partitions)
    worker = WorkerProcess(settings, free_port(), directory / "worker.log").start()
    try:
        stats = worker.wait_ready(timeout=900, restored=True)
        if stats.get("restore_seconds") is None:
            raise RuntimeError(f"the worker is ready but says nothing of its restore: {stats}")
        assert worker.process is not None
        rss = rss_mb(worker.process.pid)
    finally:
        worker.stop()
    figures = {"tickets": stored, "open": still_open, "resident": stats["tickets_resident"], "rss_mb": rss,
               "restore_s": stats["restore_seconds"]}
    echo(f"bench-memory: tickets={stored} resident={figures['resident']} rss={rss:.0f} MB "
         f"restore={figures['restore_s']:.1f} s")
    missed = [what for what, ok in (("RSS under 1 GB", rss < RSS_GOAL_MB),
                                    ("restore under 30 s", figures["restore_s"] < RESTORE_GOAL_S)) if not ok]
    verdict = "met" if not missed else "not met: " + ", ".join(missed)
    echo(f"bench-memory: goal (RSS under 1 GB, restore under 30 s) {verdict}")
    return figures


if __name__ == "__main__":  # the loading child: python -m deskpulse.bench_memory DIR TICKETS PARTITIONS
    print(*load(Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])))
