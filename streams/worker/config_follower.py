"""Every account's configuration, read from the compacted `config` topic by every worker.

First it applies the newest configuration per account that ClickHouse
holds (they outlive the broker). Configurations must reach every worker, not
a share of them, so this reader
is outside any consumer group (no group is created per start): it assigns
itself every partition, reads from the beginning, and signals `caught_up`
once it reached the end it saw at start; the ingest service waits for that
before its first event, so clocks restore under the right targets and
calendars. Then it follows new configurations.

Applying is one rule, `ConfigStore.apply` (newest by event time wins;
invalid documents are refused); the ingest path also applies the
configurations it archives, before the tickets of the same flush, through
the same method.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError
from mode import Service
from pydantic import ValidationError

from schemas.events import ConfigUpdated
from streams.core.config_store import ConfigStore
from streams.worker.topic_reader import seek_to_start

log = logging.getLogger(__name__)


def apply_config(config: ConfigStore, value: bytes | None) -> bool:
    """Apply one record of the config topic; an invalid one is left to the ingest path's dead letters."""
    try:
        event = ConfigUpdated.model_validate_json(value or b"")
    except ValidationError:
        return False
    return config.apply(event)


class ConfigFollower(Service):
    def __init__(self, bootstrap: str, topic: str, config: ConfigStore,
                 load_stored: Callable[[], Awaitable[list[ConfigUpdated]]] | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.bootstrap, self.topic, self.config = bootstrap, topic, config
        self.load_stored = load_stored  # the newest configuration per account that ClickHouse holds
        self.caught_up = asyncio.Event()
        self.consumer: AIOKafkaConsumer | None = None
        self.applied = 0

    async def on_start(self) -> None:
        if self.load_stored is not None:
            # First what outlives the broker (an embedded one is empty after a restart); the topic then
            # applies anything newer, by the same rule (newest event time wins).
            for event in await self.load_stored():
                if self.config.apply(event):
                    self.applied += 1
        self.consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, group_id=None, enable_auto_commit=False,
                                         auto_offset_reset="earliest")
        await self.consumer.start()
        await self.consumer.topics()  # metadata for every topic
        partitions = [TopicPartition(self.topic, p) for p in sorted(self.consumer.partitions_for_topic(self.topic)
                                                                      or ())]
        self.consumer.assign(partitions)
        seek_to_start(self.consumer, partitions)
        # Tansu answers with its last batch's base offset + 1: reaching it means that batch was fetched.
        ends = await self.consumer.end_offsets(partitions) if partitions else {}
        pending = {tp for tp in partitions if ends.get(tp, 0) > 0}
        while pending:
            await self._read_once(200)
            pending = {tp for tp in pending if await self.consumer.position(tp) < ends[tp]}
        self.caught_up.set()
        log.info("configurations read: %d applied", self.applied)

    async def on_stop(self) -> None:
        if self.consumer is not None:
            await self.consumer.stop()

    async def _read_once(self, timeout_ms: int) -> None:
        assert self.consumer is not None
        try:
            records = await self.consumer.getmany(timeout_ms=timeout_ms)
        except KafkaError as exc:
            log.warning("reading configurations failed, retrying: %s", exc)
            await asyncio.sleep(0.5)
            return
        for batch in records.values():
            for record in batch:
                if apply_config(self.config, record.value):
                    self.applied += 1
                    log.info("configuration applied (%s/%s)", record.partition, record.offset)

    @Service.task
    async def _follow(self) -> None:
        await self.caught_up.wait()
        while not self.should_stop:
            await self._read_once(500)
