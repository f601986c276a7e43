"""POSTs every SLA alert to the configured webhook, with retries.

Its own consumer group reads `sla-alerts` and commits an alert's offset only
after the webhook answered 2xx, so delivery is at least once; the
`Idempotency-Key` header (the alert id) lets the receiver drop a repeat
after a crash between POST and commit. A failing webhook is retried with
backoff (later alerts wait behind it, in order); the alerts themselves are
safe on the topic meanwhile.
"""

from __future__ import annotations

import asyncio
import json
import logging

import aiohttp
from aiokafka import AIOKafkaConsumer, TopicPartition
from mode import Service

from streams.worker import metrics

log = logging.getLogger(__name__)


class WebhookService(Service):
    def __init__(self, url: str, bootstrap: str, topic: str, group_id: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.url, self.bootstrap, self.topic, self.group_id = url, bootstrap, topic, group_id
        self.delivered = 0
        self.consumer: AIOKafkaConsumer | None = None

    async def on_start(self) -> None:
        self.consumer = AIOKafkaConsumer(self.topic, bootstrap_servers=self.bootstrap, group_id=self.group_id,
                                         enable_auto_commit=False, auto_offset_reset="earliest",
                                         session_timeout_ms=10_000, heartbeat_interval_ms=1_000,
                                         rebalance_timeout_ms=10_000)
        await self.consumer.start()

    async def on_stop(self) -> None:
        if self.consumer is not None:
            await self.consumer.stop()

    @Service.task
    async def _deliver(self) -> None:
        assert self.consumer is not None
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
            while not self.should_stop:
                records = await self.consumer.getmany(timeout_ms=200, max_records=100)
                for tp, recs in records.items():
                    for r in recs:
                        await self._post(session, r.value, r.key)
                        await self.consumer.commit({TopicPartition(tp.topic, tp.partition): r.offset + 1})

    async def _post(self, session: aiohttp.ClientSession, body: bytes, key: bytes | None) -> None:
        alert_id = json.loads(body).get("alert_id", "")
        delay = 0.5
        while not self.should_stop:
            try:
                async with session.post(self.url, data=body, headers={
                        "Content-Type": "application/json", "Idempotency-Key": alert_id}) as response:
                    if 200 <= response.status < 300:
                        self.delivered += 1
                        return
                    problem = f"HTTP {response.status}"
            except (aiohttp.ClientError, TimeoutError) as exc:
                problem = f"{type(exc).__name__}: {exc}"
            metrics.WEBHOOK_FAILURES.inc()
            log.warning("webhook POST of %s failed (%s); retrying in %.1fs", alert_id, problem, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 30.0)
