"""`deskpulse worker` as a child process: started, watched through /stats, stopped (demo, benchmarks, tests)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from streams.worker.settings import Settings

# Short group timeouts: a join waits about half the rebalance timeout.
FAST_GROUP_ENV = {
    "DESKPULSE_SESSION_TIMEOUT_MS": "6000",
    "DESKPULSE_REBALANCE_TIMEOUT_MS": "4000",
}


class WorkerError(RuntimeError):
    """The worker did not do what was waited for; the message says why, as far as known, and where its log is."""


def _last_problem(log_path: Path) -> str:
    """The last error line of a worker log (a traceback's final line, or an ERROR/CRITICAL record)."""
    try:
        lines = log_path.read_text(errors="replace").splitlines()[-400:]
    except OSError:
        return ""
    for line in reversed(lines):
        text = line.strip()
        head = text.split(":", 1)[0]
        if "ERROR" in text or "CRITICAL" in text or head.endswith(("Error", "Exception")) or \
                text.startswith("deskpulse: error:"):
            return text[:300]
    return ""


def total_lag(stats: dict) -> int:
    """Records not yet committed, over every partition of a /stats answer (0 when it has none)."""
    return sum((stats.get("lag") or {}).values())


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
            self._raise_if_exited()
            stats = self.stats()
            if stats is not None and (not restored or stats.get("ready")):
                return stats
            time.sleep(0.2)
        raise WorkerError(f"the worker did not come up within {timeout:.0f}s{self._diagnosis()}")

    def health(self) -> dict | None:
        try:
            with urllib.request.urlopen(f"{self.web}/healthz", timeout=5) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:  # 503: unhealthy, with its problems
            try:
                return json.loads(exc.read())
            except ValueError:
                return None
        except (OSError, ValueError):
            return None

    def exit_report(self) -> str:
        """'the worker exited with code N (<the last error it logged>); its log: <path>', once it has exited."""
        problem = _last_problem(self.log_path)
        return (f"the worker exited with code {self.process.returncode if self.process else None}"
                + (f" ({problem})" if problem else "") + f"; its log: {self.log_path}")

    def _raise_if_exited(self) -> None:
        if self.process and self.process.poll() is not None:
            raise WorkerError(self.exit_report())

    def _diagnosis(self) -> str:
        """'; <what /healthz or the log says>; its log: <path>' for an error line."""
        said = ""
        health = self.health()
        if health and health.get("problems"):
            said = "; /healthz: " + ", ".join(health["problems"])
        elif health is None:
            said = "; it does not answer on " + self.web
        problem = _last_problem(self.log_path)
        if problem:
            said += f"; last error logged: {problem}"
        return f"{said}; its log: {self.log_path}"

    def wait_processed(self, records: int, timeout: float, progress: Callable[[dict], None] | None = None,
                       every: float = 0.1) -> dict:
        """Until the worker has committed at least `records` records (valid, bad or duplicate); `progress`
        sees each /stats answer on the way."""
        deadline = time.monotonic() + timeout
        stats: dict = {}
        while time.monotonic() < deadline:
            stats = self.stats() or stats
            if progress is not None and stats:
                progress(stats)
            if stats.get("records", 0) >= records:
                return stats
            self._raise_if_exited()
            time.sleep(every)
        raise WorkerError(f"the worker processed {stats.get('records', 0)} of {records} records in {timeout:.0f}s "
                          f"(lag {total_lag(stats)}){self._diagnosis()}")

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
