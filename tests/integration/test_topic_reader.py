"""Reading partitions back outside any group (streams/worker/topic_reader.py), on the real broker.

The alerter reads its raised alerts this way on every assignment, and the gap reader what another worker
consumed. A partition read "from its start" is positioned at offset 0 without asking the broker (Tansu takes
0.5 s to say where a partition starts); these tests hold it to the same records a reader from the start gets.
"""

from __future__ import annotations

import asyncio

from aiokafka import TopicPartition
from kafka import KafkaProducer

from streams.worker.sla_alerter import alerts_topic
from streams.worker.topic_reader import read_ranges


def _produce(bootstrap: str, topic: str, values: dict[int, list[bytes]]) -> None:
    producer = KafkaProducer(bootstrap_servers=bootstrap, linger_ms=0)
    for partition, vs in values.items():
        for v in vs:
            producer.send(topic, value=v, partition=partition).get(timeout=10)  # one batch a record: offsets 0, 1, ..
    producer.close()


def _read(bootstrap: str, ranges: dict[TopicPartition, tuple[int | None, int | None]]) -> dict[int, list]:
    async def run() -> dict[int, list]:
        got: dict[int, list] = {}
        async for r in read_ranges(bootstrap, ranges):
            got.setdefault(r.partition, []).append((r.offset, r.value))
        return got
    return asyncio.run(asyncio.wait_for(run(), timeout=60))


def test_from_the_start_every_record_of_every_partition_and_none_of_an_empty_one(stack):
    topic = alerts_topic(stack.topic_prefix)
    _produce(stack.bootstrap, topic, {0: [b"a0", b"a1", b"a2"], 1: [b"b0"]})  # partition 2 stays empty

    got = _read(stack.bootstrap, {TopicPartition(topic, p): (None, None) for p in range(3)})

    assert got == {0: [(0, b"a0"), (1, b"a1"), (2, b"a2")], 1: [(0, b"b0")]}


def test_an_explicit_start_and_end(stack):
    topic = alerts_topic(stack.topic_prefix)
    _produce(stack.bootstrap, topic, {0: [b"a0", b"a1", b"a2", b"a3"]})

    assert _read(stack.bootstrap, {TopicPartition(topic, 0): (1, None)}) == {0: [(1, b"a1"), (2, b"a2"), (3, b"a3")]}
    assert _read(stack.bootstrap, {TopicPartition(topic, 0): (1, 3)}) == {0: [(1, b"a1"), (2, b"a2")]}
