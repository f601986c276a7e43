"""Helpers for tests that run the real pipeline: produce records, read tables and topics, wait for a worker."""

from __future__ import annotations

import json
import time
import urllib.request

from kafka import KafkaConsumer, KafkaProducer

from deskpulse.account_config import config_event
from deskpulse.simulator.produce import route
from schemas.topics import DEAD_LETTER_TOPIC
from tests.support.cli import deskpulse

RAW_TABLES = ("ticket_events", "message_events", "feedback_events", "availability_events", "call_events",
              "agent_events", "config_events")


def sql(settings, query: str) -> list[dict]:
    out = deskpulse("--data-dir", str(settings.data_dir), "sql", query, "--format", "json").stdout
    return json.loads(out)


def table_rows(settings) -> dict[str, int]:
    union = " UNION ALL ".join(f"SELECT '{t}' AS t, count() AS n, uniqExact(event_id) AS u FROM {t}"
                               for t in RAW_TABLES)
    rows = sql(settings, union)
    for row in rows:
        assert int(row["n"]) == int(row["u"]), f"{row['t']} holds a duplicated event_id"
    return {row["t"]: int(row["n"]) for row in rows}


def produce(settings, values: list[tuple[str, bytes | None, bytes]]) -> None:
    producer = KafkaProducer(bootstrap_servers=settings.bootstrap, linger_ms=5)
    for topic, key, value in values:
        producer.send(settings.topic(topic), key=key, value=value)
    producer.flush()
    producer.close()


def encoded(events: list[dict]) -> list[tuple[str, bytes, bytes]]:
    return [(*route(e), json.dumps(e).encode()) for e in events]


def dead_letter_messages(settings, expected: int) -> list:
    consumer = KafkaConsumer(settings.topic(DEAD_LETTER_TOPIC), bootstrap_servers=settings.bootstrap,
                             auto_offset_reset="earliest", consumer_timeout_ms=3000, group_id=None)
    found = []
    deadline = time.monotonic() + 20
    while len(found) < expected and time.monotonic() < deadline:
        found.extend(consumer)
    consumer.close()
    return found


def publish_config(settings, config) -> None:
    produce(settings, [("config", config.account_id.encode(), json.dumps(config_event(config)).encode())])


def config_applied(worker, account: str) -> bool:
    with urllib.request.urlopen(f"{worker.web}/config/{account}", timeout=5) as response:
        return bool(json.loads(response.read())["applied"])


def worker_ready(worker) -> bool:
    stats = worker.stats()
    return bool(stats and stats["ready"] and stats["assigned"])
