"""Reading ranges of partitions back from the broker, outside any consumer group.

The worker reads its own history this way: the alerts already raised on a
partition, and what another worker consumed of a partition that moved here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.structs import ConsumerRecord


def seek_to_start(consumer: AIOKafkaConsumer, partitions: Iterable[TopicPartition]) -> None:
    """Position at each partition's first record, without asking the broker where that is.

    Offset 0, and the consumer's `auto_offset_reset="earliest"` (required) moves a partition whose log starts later
    (retention) to its start on the first fetch. `seek_to_beginning` asks the broker instead, and Tansu takes
    0.5 s to answer that (its earliest-offset answer, not the latest's): a worker read back the raised alerts
    of each assigned partition so, 2 s of every assignment of four partitions with nothing to read
    (`make bench`: 2.2 s of the measured window went waiting for it).
    """
    for tp in partitions:
        consumer.seek(tp, 0)


async def read_ranges(bootstrap: str, ranges: Mapping[TopicPartition, tuple[int | None, int | None]],
                      ) -> AsyncIterator[ConsumerRecord]:
    """Every record of each partition from start (None: its beginning) up to end, exclusive.

    end None: up to the partition's end now, and whatever else the last fetch
    brings. Only an explicit end filters records: Tansu answers the end-offset
    query with its last batch's base offset + 1, so there it is a point
    inside the last batch, reached once that batch is fetched, not a bound.
    """
    reader = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                              auto_offset_reset="earliest", max_partition_fetch_bytes=8 * 1024 * 1024)
    await reader.start()
    try:
        if not ranges:
            return
        reader.assign(list(ranges))
        ends = await reader.end_offsets(list(ranges))
        stops = {tp: ends[tp] if end is None else end for tp, (_, end) in ranges.items()}
        seek_to_start(reader, [tp for tp, (start, _) in ranges.items() if start is None])
        for tp, (start, _) in ranges.items():
            if start is not None:
                reader.seek(tp, start)
        pending = {tp for tp in ranges if await reader.position(tp) < stops[tp]}
        while pending:
            for tp, records in (await reader.getmany(*pending, timeout_ms=500)).items():
                for record in records:
                    if ranges[tp][1] is None or record.offset < stops[tp]:
                        yield record
            for tp in list(pending):
                if await reader.position(tp) >= stops[tp]:
                    pending.discard(tp)
    finally:
        await reader.stop()
