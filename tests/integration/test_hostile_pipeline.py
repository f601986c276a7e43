"""Hostile records through the real broker and worker: each is dead-lettered, and a canary still gets through.

Issue 10, finding 2: a record whose dead letter would exceed the broker's
request size crashed the worker on every restart.
"""

from __future__ import annotations

import json

from kafka import KafkaProducer

from tests.support.events import created
from tests.support.pipeline import dead_letter_messages, encoded, produce, sql
from tests.support.waiting import wait_until


def _produce_large(settings, topic: str, key: bytes, value: bytes) -> None:
    producer = KafkaProducer(bootstrap_servers=settings.bootstrap, max_request_size=8 * 1024 * 1024)
    producer.send(settings.topic(topic), key=key, value=value)
    producer.flush()
    producer.close()


def test_oversized_records_are_dead_lettered_and_the_partition_goes_on(stack, start_worker):
    worker = start_worker(stack)
    huge_type = json.dumps({**created("big1"), "type": "ticket." + "x" * 2_000_000}).encode()
    huge_invalid = b"{" + b"y" * 3_000_000
    _produce_large(stack, "tickets", b"big1", huge_type)
    _produce_large(stack, "tickets", b"big1", huge_invalid)
    produce(stack, encoded([created("canary1")]))
    worker.wait_processed(3, timeout=60)
    wait_until(lambda: sql(stack, "SELECT count() AS n FROM ticket_events WHERE ticket_id = 'canary1'")[0]["n"]
               in (1, "1"), 30, "the canary in ClickHouse")
    stored = sql(stack, "SELECT reason_code, length(raw) AS size, length(reason) AS reason_size FROM dead_letters "
                        "ORDER BY _offset")
    assert [r["reason_code"] for r in stored] == ["unknown_type", "invalid_json"]
    assert all(int(r["size"]) > 1_000_000 for r in stored)  # the originals are kept in ClickHouse
    assert all(int(r["reason_size"]) <= 500 for r in stored)
    letters = dead_letter_messages(stack, 2)
    assert len(letters) == 2
    for letter in letters:
        headers = dict(letter.headers)
        assert letter.value == b"" and b"dead_letters table" in headers["deskpulse.original"]
    assert worker.stats()["dead_lettered"] == 2
