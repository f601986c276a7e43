"""Partition ends for the lag (streams/worker/end_offsets.py), on the real broker.

Tansu answers the end-offset query with its last batch's base offset + 1. The
worker reads the last batch to find the real end; when that fetch was not
answered in time, the lag used to fall back to base + 1 and could read 0 while
the last batch was not done (a restarting worker's /stats under load showed 605
of a partition's 662 records for seconds).
"""

from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaConsumer, TopicPartition
from kafka import KafkaProducer

from streams.worker.end_offsets import EndOffsets


def _produce_batches(bootstrap: str, topic: str, partition: int, sizes: list[int]) -> None:
    """One broker batch per entry of `sizes`, with that many records."""
    producer = KafkaProducer(bootstrap_servers=bootstrap, linger_ms=1000, batch_size=1 << 20)
    for size in sizes:
        for i in range(size):
            producer.send(topic, value=b"x%d" % i, partition=partition)
        producer.flush()
    producer.close()


def test_the_real_end_and_an_unanswered_read_never_moves_it_back(stack):
    topic = stack.topic("tickets")
    _produce_batches(stack.bootstrap, topic, 0, [40, 25, 2])  # the last batch starts at 65
    tps = [TopicPartition(topic, p) for p in range(3)]

    async def run() -> None:
        ends = EndOffsets(stack.bootstrap, max_age_s=0.0)
        try:
            reader = AIOKafkaConsumer(bootstrap_servers=stack.bootstrap, group_id=None)
            await reader.start()
            try:
                assert (await reader.end_offsets([tps[0]]))[tps[0]] == 66  # the broker's answer: base + 1
            finally:
                await reader.stop()
            assert (await ends.read(tps)) == {tps[0]: 67, tps[1]: 0, tps[2]: 0}
            assert ends.unconfirmed == 0
            # A read whose fetch is not answered in time (no time at all): the end read before, not 66.
            ends.read_s = 0.0
            assert (await ends.read(tps))[tps[0]] == 67
            assert ends.unconfirmed == 1
            # ... and a later answered read moves it on.
            ends.read_s = 5.0
            await asyncio.to_thread(_produce_batches, stack.bootstrap, topic, 0, [3])
            both = await asyncio.gather(ends.read(tps), ends.read(tps))  # at the same time: one shared read
            assert both[0] == both[1] and both[0][tps[0]] == 70
        finally:
            await ends.close()

    asyncio.run(asyncio.wait_for(run(), timeout=60))


def test_a_read_within_its_age_is_not_read_again(stack):
    topic = stack.topic("messages")
    _produce_batches(stack.bootstrap, topic, 1, [5])
    tp = TopicPartition(topic, 1)

    async def run() -> tuple[int, int]:
        ends = EndOffsets(stack.bootstrap, max_age_s=60.0)
        try:
            first = (await ends.read([tp]))[tp]
            await asyncio.to_thread(_produce_batches, stack.bootstrap, topic, 1, [5])
            return first, (await ends.read([tp]))[tp]
        finally:
            await ends.close()

    assert asyncio.run(asyncio.wait_for(run(), timeout=60)) == (5, 5)
