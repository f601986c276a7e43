"""Workers that find each other: each announces its web address on the compacted `workers` topic.

Every few seconds a worker writes {url, at} under its own id, and a
tombstone when it stops. Every worker reads the whole topic outside any
group. The live API asks the peers heard from within the last EXPIRE_S
seconds, so no peer list is written by hand. A worker that leaves
disappears from the answer at once (tombstone). One killed without a word
disappears within EXPIRE_S; until then it is reported in `missing_workers`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import time
import uuid

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaError
from mode import Service

from streams.worker.topic_reader import seek_to_start

log = logging.getLogger(__name__)
ANNOUNCE_EVERY_S = 2.0
EXPIRE_S = 8.0
MAX_RECORD = 1024  # an announcement is a URL and a time; anything bigger is not one
MAX_WORKERS = 1000


def advertised_url(host: str, port: int, given: str | None) -> str:
    if given:
        return given.rstrip("/")
    if host in ("0.0.0.0", "::", ""):
        host = socket.gethostname()
    return f"http://{host}:{port}"


def parse(value: bytes | None) -> tuple[str, float] | None:
    """(url, announced at) of an announcement; None for a tombstone or anything that is not one."""
    if not value or len(value) > MAX_RECORD:
        return None
    try:
        body = json.loads(value)
        url, at = body["url"], float(body["at"])
    except (ValueError, KeyError, TypeError):
        return None
    if not isinstance(url, str) or len(url) > 200 or not url.startswith(("http://", "https://")):
        return None
    return url, at


class WorkerDirectory(Service):
    def __init__(self, bootstrap: str, topic: str, url: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.bootstrap, self.topic, self.url = bootstrap, topic, url
        self.worker_id = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.heard: dict[str, tuple[str, float]] = {}  # worker id -> (url, announced at, wall clock)
        self.consumer: AIOKafkaConsumer | None = None
        self.producer: AIOKafkaProducer | None = None

    def peers(self) -> list[str]:
        """The other workers heard from recently, by URL."""
        now = time.time()
        return sorted({url for wid, (url, at) in self.heard.items()
                       if wid != self.worker_id and url != self.url and now - at < EXPIRE_S})

    async def on_start(self) -> None:
        self.producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap, linger_ms=0)
        await self.producer.start()
        self.consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, group_id=None, enable_auto_commit=False,
                                         auto_offset_reset="earliest")
        await self.consumer.start()
        await self.consumer.topics()
        partitions = [TopicPartition(self.topic, p) for p in sorted(self.consumer.partitions_for_topic(self.topic)
                                                                      or ())]
        self.consumer.assign(partitions)
        seek_to_start(self.consumer, partitions)
        await self._announce()

    async def on_stop(self) -> None:
        # Bounded throughout: with the broker gone, a goodbye (or an announcement still queued) would hold the
        # producer's close for its whole request timeout, and a worker must stop within 10 s.
        if self.producer is not None:
            try:  # a tombstone: the others drop this worker at once
                await asyncio.wait_for(self.producer.send_and_wait(self.topic, key=self.worker_id.encode(),
                                                                   value=None), timeout=1)
            except (KafkaError, TimeoutError) as exc:
                log.warning("could not say goodbye on %s: %s", self.topic, exc)
            await _bounded(self.producer.stop(), "the workers-topic producer")
        if self.consumer is not None:
            await _bounded(self.consumer.stop(), "the workers-topic reader")

    async def _announce(self) -> None:
        assert self.producer is not None
        value = json.dumps({"url": self.url, "at": time.time()}).encode()
        try:
            await asyncio.wait_for(self.producer.send_and_wait(self.topic, key=self.worker_id.encode(), value=value),
                                   timeout=ANNOUNCE_EVERY_S)
        except (KafkaError, TimeoutError) as exc:
            log.warning("announcing this worker failed, retrying: %s", exc)

    @Service.timer(ANNOUNCE_EVERY_S)
    async def _heartbeat(self) -> None:
        await self._announce()

    @Service.task
    async def _follow(self) -> None:
        while not self.should_stop:
            if self.consumer is None:
                await asyncio.sleep(0.2)
                continue
            try:
                records = await self.consumer.getmany(timeout_ms=500)
            except KafkaError as exc:
                log.warning("reading %s failed, retrying: %s", self.topic, exc)
                await asyncio.sleep(0.5)
                continue
            for batch in records.values():
                for record in batch:
                    self._heard(record.key, record.value)

    def _heard(self, key: bytes | None, value: bytes | None) -> None:
        worker = (key or b"").decode("utf-8", errors="replace")[:200]
        announced = parse(value)
        if announced is None:
            self.heard.pop(worker, None)
            return
        self.heard[worker] = announced
        if len(self.heard) > MAX_WORKERS:  # the stalest go first
            for stale in sorted(self.heard, key=lambda w: self.heard[w][1])[:len(self.heard) - MAX_WORKERS]:
                del self.heard[stale]


async def _bounded(closing, what: str, timeout: float = 2.0) -> None:
    try:
        await asyncio.wait_for(closing, timeout=timeout)
    except (KafkaError, TimeoutError) as exc:
        log.warning("closing %s took longer than %.0f s (%s): left behind", what, timeout, exc)
