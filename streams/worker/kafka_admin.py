"""Talking to the broker as an administrator: its cluster id and the topics deskpulse needs."""

from __future__ import annotations

import time

from kafka.admin import KafkaAdminClient, NewTopic
from kafka.errors import TopicAlreadyExistsError

from schemas.topics import DEAD_LETTER_TOPIC, SLA_ALERTS_TOPIC, TOPICS, WORKERS_TOPIC


class BrokerError(RuntimeError):
    """The broker cannot be reached or refused a request: one line for the user."""


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
        wanted.append(NewTopic(prefix + WORKERS_TOPIC, 1, 1, topic_configs={"cleanup.policy": "compact"}))
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
