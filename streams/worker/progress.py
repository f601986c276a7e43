"""What ClickHouse already holds of each assigned partition: stored offsets and recent event ids.

A partition store (see state_manager). On assignment it reads back, per
table, the highest offset stored from this broker and the newest event ids
(the de-duplication window), so a redelivered or duplicated record is
recognised; on revocation it forgets them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sinks.clickhouse import Warehouse
from sinks.rows import DEAD_LETTER_TABLE, TABLE_OF_TOPIC
from streams.worker.batch import BatchBuilder
from streams.worker.state_manager import Assignment


class ProgressStore:
    def __init__(self, builder: BatchBuilder, warehouse: Warehouse, db_call: Callable[..., Awaitable]) -> None:
        self.builder, self.warehouse, self.db_call = builder, warehouse, db_call

    def stored(self, tables: tuple[str, ...]) -> dict[tuple[str, int], int]:
        """(topic, partition) -> highest stored offset, for the raw tables named."""
        return {(topic, p): o for (table, topic, p), o in self.builder.watermarks.items() if table in tables}

    async def assign(self, assignment: Assignment) -> None:
        await self.db_call(self._load, assignment)

    async def revoke(self, assignment: Assignment) -> None:
        for topic, partitions in assignment.items():
            for partition in partitions:
                self.builder.forget(topic, partition)

    def _load(self, assignment: Assignment) -> None:
        source = self.builder.source_id
        for topic, partitions in assignment.items():
            table = TABLE_OF_TOPIC[topic]
            for name in (table, DEAD_LETTER_TABLE):
                for partition, offset in self.warehouse.watermarks(name, source, topic, partitions).items():
                    self.builder.watermarks[(name, topic, partition)] = offset
            for partition in partitions:
                seen = self.builder.seen_ids(topic, partition)
                for event_id in reversed(self.warehouse.recent_event_ids(table, topic, partition,
                                                                          self.builder.dedupe_capacity)):
                    seen.add(event_id)
