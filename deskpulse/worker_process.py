"""`deskpulse worker` as a child process: started, watched through /stats, stopped (demo, benchmarks, tests)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from streams.worker.settings import Settings

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
