"""The wall-clock SLA alert scheduler (the shell around streams.core.sla_clocks).

The worker hands over every touched ticket's clocks after each flush; a
timer wakes at the next due-soon or due instant, so alerts need no new input
events. An alert goes to the `sla-alerts` topic, on the partition of its
ticket, which this worker owns.

Exactly once per clock and transition: an alert's id is
account/ticket/clock/state. Before a worker alerts for a partition it reads
that partition of `sla-alerts` back (ids already raised, by it or by the
previous owner), and on revocation it finishes in-flight sends before the
partition may move. Restart after kill -9: anything acknowledged by the
broker is read back; anything not is raised now, late but once.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import json
import logging
import time
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from aiokafka import AIOKafkaProducer, TopicPartition
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import REGISTRY

from schemas.alerts import SlaAlert, alert_id
from schemas.topics import SLA_ALERTS_TOPIC
from streams.core.sla_clocks import RUNNING_STATES, Clock, alerts_due
from streams.worker import metrics
from streams.worker.topic_reader import read_ranges

log = logging.getLogger(__name__)
Key = tuple[str, str]
SEND_ATTEMPTS = 3  # 0.2 + 0.4 s of backoff at most between them
SEND_TIMEOUT_S = 3.0  # per try: a broker that neither answers nor refuses holds nothing for long


@dataclass(slots=True)
class Watched:
    partition: int
    clocks: list[Clock]
    owner_id: str
    team_id: str
    priority: str


class SlaAlerter:
    def __init__(self, bootstrap: str, topic: str, max_age_s: float) -> None:
        self.bootstrap = bootstrap
        self.topic = topic
        self.max_age = timedelta(seconds=max_age_s)
        self.producer: AIOKafkaProducer | None = None
        self.watched: dict[Key, Watched] = {}
        self.emitted: set[str] = set()
        self.raised = 0
        self.stale = 0  # alerts not raised: their threshold passed more than max_age ago
        self.latencies: deque[float] = deque(maxlen=100_000)
        self._heap: list[tuple[datetime, int, Key]] = []
        self._scheduled: set[tuple[datetime, Key]] = set()  # what the heap holds
        self._seq = itertools.count()
        self._lock = asyncio.Lock()  # the bookkeeping (owned partitions, watched tickets); never held over a send
        self._in_flight: dict[str, tuple[int, asyncio.Future]] = {}  # alert id -> (partition, its send)
        self._wake = asyncio.Event()
        self._owned: set[int] = set()

    # --- from the worker ------------------------------------------------------

    def watch(self, key: Key, partition: int, clocks: list[Clock], owner_id: str, team_id: str,
              priority: str) -> None:
        """The ticket's current clocks (replacing the previous ones)."""
        if not clocks:
            self.watched.pop(key, None)
            return
        self.watched[key] = Watched(partition, clocks, owner_id, team_id, priority)
        now = datetime.now(UTC)
        for clock in clocks:
            if clock.stopped_at is None:
                for at in (clock.due_soon_at, clock.due_at):
                    # Once per instant and ticket: a ticket is re-watched on every flush that touches it.
                    if at is not None and at > now and (at, key) not in self._scheduled:
                        self._scheduled.add((at, key))
                        heapq.heappush(self._heap, (at, next(self._seq), key))
        self._wake.set()

    def hold(self, key: Key) -> None:
        """The ticket's clocks changed and its new ones come later (its facts row waits, facts_keeper.flush_rows):
        no alert acts on the old ones meanwhile. Its next `watch` and `evaluate` raise what fell due."""
        self.watched.pop(key, None)

    async def evaluate(self, keys) -> None:
        """Raise the alerts now due for these tickets; forget tickets without running clocks.

        The lock guards only the bookkeeping, never a send: sends run outside it, and a revoke waits for
        the sends of its partitions still in flight (bounded) so the next owner reads them back.
        """
        pending: list[tuple[SlaAlert, asyncio.Future]] = []
        async with self._lock:
            now = datetime.now(UTC)
            not_before = now - self.max_age
            for key in keys:
                watched = self.watched.get(key)
                if watched is None or watched.partition not in self._owned:
                    continue
                for clock, state, threshold in alerts_due(watched.clocks, now):
                    aid = alert_id(key[0], key[1], clock.key, state)
                    if aid in self.emitted or aid in self._in_flight:
                        continue
                    if threshold < not_before:
                        self.emitted.add(aid)
                        self.stale += 1
                        metrics.SLA_ALERTS_STALE.inc()
                        continue
                    alert = SlaAlert(alert_id=aid, account_id=key[0], ticket_id=key[1], metric=clock.metric,
                                     state=state, started_at=clock.started_at, due_at=clock.due_at,
                                     threshold_at=threshold, raised_at=now, target_s=clock.target_s,
                                     owner_id=watched.owner_id, team_id=watched.team_id,
                                     priority=watched.priority)
                    sending = asyncio.ensure_future(self._send(alert, watched.partition))
                    self._in_flight[aid] = (watched.partition, sending)
                    pending.append((alert, sending))
                if not any(c.stopped_at is None for c in watched.clocks):
                    del self.watched[key]
        if not pending:
            return
        await asyncio.gather(*(f for _, f in pending))
        for alert, sending in pending:
            del self._in_flight[alert.alert_id]
            if not sending.result():
                continue  # not marked raised: the next evaluation of its ticket tries again
            self.emitted.add(alert.alert_id)
            self.raised += 1
            log.debug("raised %s", alert.alert_id)
            self.latencies.append(alert.latency_s)
            metrics.SLA_ALERTS.labels(alert.metric, alert.state).inc()
            metrics.EVENTS_PRODUCED.labels(SLA_ALERTS_TOPIC, "sla.alert").inc()
            metrics.SLA_ALERT_LATENCY.observe(max(alert.latency_s, 0.0))

    async def _send(self, alert: SlaAlert, partition: int) -> bool:
        """Bounded (SEND_ATTEMPTS tries of at most SEND_TIMEOUT_S each): a revoke waits for it, and a flush
        waits for the alerts of its tickets; a refused alert is counted and tried again at the next evaluation."""
        assert self.producer is not None
        value = alert.model_dump_json().encode()
        for attempt in range(SEND_ATTEMPTS):
            try:
                await asyncio.wait_for(self.producer.send_and_wait(self.topic, value=value,
                                                                   key=alert.ticket_id.encode(), partition=partition),
                                       SEND_TIMEOUT_S)
                return True
            except Exception as exc:
                log.warning("sending alert %s failed (%s: %s)", alert.alert_id, type(exc).__name__, exc)
                if not getattr(exc, "retriable", True):
                    break
                await asyncio.sleep(0.2 * 2 ** attempt)
        metrics.SLA_ALERT_SEND_FAILURES.inc()
        return False

    # --- timer ----------------------------------------------------------------

    async def run(self, should_stop) -> None:
        while not should_stop():
            now = datetime.now(UTC)
            due = set()
            while self._heap and self._heap[0][0] <= now:
                at, _, key = heapq.heappop(self._heap)
                self._scheduled.discard((at, key))
                due.add(key)
            if due:
                await self.evaluate(due)
                continue
            delay = (self._heap[0][0] - now).total_seconds() if self._heap else 1.0
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=min(max(delay, 0.0), 1.0))
            except TimeoutError:
                pass

    # --- partitions -----------------------------------------------------------

    async def assign(self, assignment: dict[str, list[int]]) -> None:
        """Alert for newly assigned ticket partitions: read back what was raised, then raise what is due."""
        partitions = assignment.get("tickets", [])
        if partitions:
            await self.restore(partitions)
            await self.evaluate([k for k, w in list(self.watched.items()) if w.partition in partitions])

    async def revoke(self, assignment: dict[str, list[int]]) -> None:
        await self.release(set(assignment.get("tickets", [])))

    async def restore(self, partitions: list[int]) -> None:
        """Read back the alerts already raised on these partitions, then alert for them."""
        partitions = sorted(set(partitions))
        if not partitions:
            return
        started = time.monotonic()
        found = 0
        async for r in read_ranges(self.bootstrap, {TopicPartition(self.topic, p): (None, None) for p in partitions}):
            try:
                self.emitted.add(json.loads(r.value)["alert_id"])
                found += 1
            except (ValueError, KeyError, TypeError):
                log.warning("unreadable record in %s at %s/%s", self.topic, r.partition, r.offset)
        async with self._lock:
            self._owned.update(partitions)
        log.info("read %d raised alerts of partitions %s in %.2fs", found, partitions, time.monotonic() - started)

    async def release(self, partitions) -> None:
        """Stop alerting for partitions being revoked; their sends in flight finish first (each is bounded), so
        the next owner, which reads the topic back, sees them."""
        async with self._lock:
            for p in partitions:
                self._owned.discard(p)
            for key in [k for k, w in self.watched.items() if w.partition in partitions]:
                del self.watched[key]
            flying = [f for p, f in self._in_flight.values() if p in partitions]
        if flying:
            await asyncio.wait(flying, timeout=SEND_ATTEMPTS * (SEND_TIMEOUT_S + 1.0))

    # --- Prometheus -----------------------------------------------------------

    def collect(self):
        gauge = GaugeMetricFamily("deskpulse_sla_clocks", "Running SLA clocks by state",
                                  labels=["account_id", "metric", "state"])
        now = datetime.now(UTC)
        counts: dict[tuple[str, str, str], int] = {}
        for (account_id, _), watched in list(self.watched.items()):
            for clock in watched.clocks:
                state = clock.state(now)
                if state in RUNNING_STATES:
                    counts[(account_id, clock.metric, state)] = counts.get((account_id, clock.metric, state), 0) + 1
        for labels, n in sorted(counts.items()):
            gauge.add_metric(list(labels), n)
        yield gauge

    def register(self) -> None:
        REGISTRY.register(self)


def alerts_topic(prefix: str) -> str:
    return prefix + SLA_ALERTS_TOPIC
