"""Where each partition really ends, for the lag (`IngestService.lag`, /stats, the consumer-lag gauge).

Tansu answers the end-offset query with its last batch's base offset + 1, so
the end is read off that batch itself: a fetch from the reported end - 1
shows the batch's last record. A fetch answer can come late (a busy event
loop, a busy broker): a partition not answered yet is asked again until
`read_s` has passed, and an end never moves back, so a late answer gives the
end read before, not the base + 1 (that made the lag read 0 while the last
batch, often one ticket's records, was not done).
"""

from __future__ import annotations

import asyncio
import time

from aiokafka import AIOKafkaConsumer, TopicPartition


class EndOffsets:
    def __init__(self, bootstrap: str, *, max_age_s: float = 1.0, read_s: float = 1.5) -> None:
        self.bootstrap, self.max_age_s, self.read_s = bootstrap, max_age_s, read_s
        self._reader: AIOKafkaConsumer | None = None
        self._ends: dict[TopicPartition, int] = {}  # the furthest end seen per partition
        self._read_at: dict[TopicPartition, float] = {}  # when each was last confirmed (monotonic)
        self._reading: asyncio.Task | None = None
        self.unconfirmed = 0  # reads that left a partition unanswered (counted, for tests and debugging)

    async def read(self, partitions: list[TopicPartition]) -> dict[TopicPartition, int]:
        """The offset after each partition's last record, at most `max_age_s` old when every partition was
        confirmed that recently. Callers at the same time share one read (the reader is one consumer)."""
        for _ in range(3):  # a shared read of other partitions (an assignment changed meanwhile): once more
            now = time.monotonic()
            if all(now - self._read_at.get(tp, -1e9) < self.max_age_s for tp in partitions):
                break
            if self._reading is None or self._reading.done():
                self._reading = asyncio.ensure_future(self._read(list(partitions)))
            await asyncio.shield(self._reading)
            if all(tp in self._ends for tp in partitions):
                break
        return {tp: self._ends.get(tp, 0) for tp in partitions}

    async def _read(self, partitions: list[TopicPartition]) -> None:
        if self._reader is None:
            self._reader = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, group_id=None,
                                            enable_auto_commit=False)
            await self._reader.start()
        reader = self._reader
        reader.assign(partitions)
        reported = await reader.end_offsets(partitions)
        started = time.monotonic()
        for tp in partitions:
            self._ends[tp] = max(self._ends.get(tp, 0), reported[tp])
            if reported[tp] == 0:
                self._read_at[tp] = started  # empty: nothing to read off
        pending = {tp for tp in partitions if reported[tp] > 0}
        for tp in pending:
            reader.seek(tp, reported[tp] - 1)  # inside the last batch: fetching it shows where it ends
        while pending and (left := started + self.read_s - time.monotonic()) > 0:
            fetched = await reader.getmany(*pending, timeout_ms=max(1, int(left * 1000)))
            for tp, records in fetched.items():
                if records:
                    self._ends[tp] = max(self._ends[tp], records[-1].offset + 1)
                    self._read_at[tp] = started
                    pending.discard(tp)
        if pending:
            self.unconfirmed += 1

    async def close(self) -> None:
        if self._reading is not None and not self._reading.done():
            self._reading.cancel()
        if self._reader is not None:
            await self._reader.stop()
            self._reader = None
