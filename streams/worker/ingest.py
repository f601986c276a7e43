"""The hot path: a batched consumer of all event topics, sinking to ClickHouse.

A Faust agent dispatching every record costs ~0.055 of the raw-consumer
ceiling (docs/decisions/0001-faust-hosts-the-worker-the-hot-path-is-batched.md).
This service, run by the Faust worker, takes records in batches with aiokafka
(Faust's own client) and only moves data: records -> `Batch` (batch.py) ->
ticket state (tickets.py) and the live keeper -> the numbered commit steps
(checkpoint.py). Partition assignments go to every partition store through
one state manager (state_manager.py). Offsets are committed only after
ClickHouse has the rows, and the sink skips what it already stored, so a
crash at any point neither loses nor duplicates a row.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener
from aiokafka.coordinator.assignors.range import RangePartitionAssignor
from aiokafka.errors import KafkaError
from mode import Service

from schemas.topics import TOPICS
from sinks import live_store
from sinks.clickhouse import Warehouse
from sinks.rows import TABLE_OF_TOPIC
from streams.core.config_store import ConfigStore
from streams.core.decode import SourceRef
from streams.worker import metrics
from streams.worker.batch import Batch, BatchBuilder, batch_due, merge_batches
from streams.worker.checkpoint import Checkpoint
from streams.worker.config_follower import ConfigFollower
from streams.worker.conversations import Conversations
from streams.worker.end_offsets import EndOffsets
from streams.worker.flights import Flights
from streams.worker.live_keeper import LIVE_TOPICS, LiveKeeper
from streams.worker.progress import ProgressStore
from streams.worker.settings import Settings
from streams.worker.sla_alerter import SlaAlerter, alerts_topic
from streams.worker.state_manager import Assignment, StateManager
from streams.worker.tickets import Sourced, TicketPartitions
from streams.worker.topic_reader import read_ranges

log = logging.getLogger(__name__)
GAP_TOPICS = ("tickets", "messages", *LIVE_TOPICS)  # what a store per worker reads back (see _read_gaps)


@dataclass
class Stats:
    """Totals since start, for /stats, the demo and the benchmark."""

    records: int = 0
    events: int = 0
    dead_lettered: int = 0
    duplicates: int = 0
    already_stored: int = 0
    rows_written: int = 0
    flushes: int = 0
    tickets_resident: int = 0  # folds in memory after the last flush
    tickets_evicted: int = 0
    tickets_reloaded: int = 0
    facts_waiting: int = 0  # touched tickets whose facts row waits for its coalescing window, after the last flush
    restore_seconds: float | None = None  # the last assignment: partitions given to state restored
    first_record_at: float | None = None  # wall clock
    last_commit_at: float | None = None
    # CPU time of the event loop's thread at those two moments: how busy the loop was (`make bench` prints it)
    loop_cpu_at_first_record: float | None = None
    loop_cpu_at_last_commit: float | None = None

    def as_dict(self) -> dict:
        return dict(self.__dict__)


YOUNG_OBJECTS_PER_COLLECTION = 3_000_000  # at most
YOUNG_OBJECTS_PER_RECORD_IN_FLIGHT = 150
MIN_YOUNG_OBJECTS_PER_COLLECTION = 60_000
EVICT_EVERY_S = 30.0


def freeze_heap(force: bool = False, records_in_flight: int | None = None) -> None:
    """Garbage collection on the worker's schedule, not per allocation count.

    Ticket folds are millions of small long-lived objects. With automatic
    collection, each flush's allocations triggered collections that walked
    them again and again (measured: a third of the facts time). So it is off
    in the worker: after a flush (and a restore) one collection finds the new
    cycles (a few hundred objects) and the survivors are frozen, never
    scanned again. They are still freed by reference counting when dropped;
    only cycles among them would outlive their use, and ticket state has none.

    A collection walks every object made since the last one that is still
    alive: the new ticket state (walked once, then frozen) and the batches in
    flight (walked again by every collection). So it runs once young objects
    reach about 150 per record in flight, between 60,000 and 3,000,000: under
    a backlog about once per 3 million objects (`make bench`: one 1.3 s
    collection in 20 s instead of four to five of 0.2-0.7 s each, +10 %
    throughput), under light traffic it stays short (a 600,000-object one
    held the live answer 0.25 s). There is little garbage to wait for since
    inserts no longer go through the driver's insert contexts
    (sinks/clickhouse.py): each was a cycle holding its batch's column
    lists, 250,000 lists per collection.
    """
    limit = YOUNG_OBJECTS_PER_COLLECTION
    if records_in_flight is not None:
        scaled = YOUNG_OBJECTS_PER_RECORD_IN_FLIGHT * records_in_flight
        limit = min(limit, max(MIN_YOUNG_OBJECTS_PER_COLLECTION, scaled))
    if force or gc.get_count()[0] >= limit:
        gc.collect()
        gc.freeze()


class _Rebalance(ConsumerRebalanceListener):
    def __init__(self, service: IngestService) -> None:
        self.service = service

    async def on_partitions_revoked(self, revoked) -> None:
        await self.service.partitions_revoked(revoked)

    async def on_partitions_assigned(self, assigned) -> None:
        await self.service.partitions_assigned(assigned)


class IngestService(Service):
    def __init__(self, settings: Settings, warehouse: Warehouse, config: ConfigStore, source_id: str,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.settings = settings
        self.warehouse = warehouse
        self.config = config
        self.configs: ConfigFollower | None = None  # set by create_app; its start waits for it
        self.stats = Stats()
        self.builder = BatchBuilder(settings.dedupe_window, source_id)
        self.batch = Batch()
        # One thread owns the ClickHouse client: the driver is not thread-safe,
        # and inserts overlap with fetching the next batch.
        self._db = ThreadPoolExecutor(max_workers=1, thread_name_prefix="clickhouse")
        # An apply's point reads (stored state of a ticket or conversation not in memory) have their own session
        # and thread. On the insert thread each waited behind the previous commit's inserts, and the apply with
        # it (`make bench`: a ticket-properties read took 95 ms, 40 ms on its own session). They need no commit
        # still in flight: a key not in memory has no uncommitted row (settings.MAX_BATCH_ROWS).
        self.reader = Warehouse.open(settings.clickhouse_dsn)
        self._reads = ThreadPoolExecutor(max_workers=1, thread_name_prefix="clickhouse-reads")
        # Batches applied ahead of ClickHouse: at most two batches' worth wait for a commit.
        self.flights = Flights(self._commit, max_waiting=settings.batch_max_rows, pace_s=settings.commit_pace_s)
        self._logical = {settings.topic(t.name): t.name for t in TOPICS}
        self.consumer: AIOKafkaConsumer | None = None
        self.producer: AIOKafkaProducer | None = None
        # aiokafka may fetch for new partitions before our assignment callback
        # has read their stored progress back: records wait for this.
        self._settled = asyncio.Event()
        self.alerter = SlaAlerter(settings.bootstrap, alerts_topic(settings.topic_prefix), settings.alert_max_age_s)
        self.progress = ProgressStore(self.builder, warehouse, self.db_call)
        evict_after = timedelta(seconds=settings.evict_closed_after_s) if settings.evict_closed_after_s else None
        self.tickets = TicketPartitions(config, self.alerter, self.reader, self.read_call, self.progress,
                                        self._replay_gap, evict_after)
        self._evicted_at = time.monotonic()
        self.facts = self.tickets.facts
        self.live = LiveKeeper(config, self.facts, self.tickets.state_of, self._load_recent,
                               lambda: self.progress.stored(("feedback_events", "call_events", "availability_events")),
                               self._replay_live_gap, settings.live_index_check_s)
        self.conversations = Conversations(self.reader, self.read_call)
        self.checkpoint = Checkpoint(settings, warehouse, self.db_call, self.alerter)
        self.partition_state = StateManager()
        for store in (self.checkpoint, self.progress, self.tickets, self.live, self.alerter,
                      self.conversations):  # dependency order
            self.partition_state.register(store)
        self.loop_lag = 0.0
        self.ends = EndOffsets(settings.bootstrap)  # partition ends, for the lag
        # per partition, the offset after the last record handed to a batch (at first, the committed one)
        self._fetched: dict[TopicPartition, int] = {}
        self._flushes = 0  # applies so far, numbered
        self._draining = False  # revoke or stop: every waiting facts row is written
        # (flush number, first offsets of its batch) of the flushes since the oldest waiting facts row's (hold)
        self._since_waiting: list[tuple[int, dict[tuple[str, int], int]]] = []
        self._assigning: Assignment | None = None  # the assignment under way, and its gap read (_gaps)
        self._gap_read: asyncio.Future | None = None

    @property
    def ready(self) -> bool:
        """Partitions are assigned and their state restored."""
        return self._settled.is_set()

    async def db_call(self, fn, *args):
        """Run a ClickHouse call on the one thread that owns the client."""
        return await asyncio.get_running_loop().run_in_executor(self._db, fn, *args)

    async def read_call(self, fn, *args):
        """Run a point read on the read session's thread (`self.reader`): it does not wait for inserts."""
        return await asyncio.get_running_loop().run_in_executor(self._reads, fn, *args)

    async def on_start(self) -> None:
        bootstrap = self.settings.bootstrap
        self.producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5, acks="all")
        await self.producer.start()
        self.alerter.producer = self.checkpoint.producer = self.producer
        if self.configs is not None:
            await self.configs.caught_up.wait()  # targets and calendars before the first clock is restored
        gc.disable()  # see freeze_heap
        self.consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap,
            group_id=self.settings.group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_partition_fetch_bytes=8 * 1024 * 1024,
            fetch_max_bytes=64 * 1024 * 1024,
            # The broker holds a fetch until data or this: half the batch window, not the 500 ms default
            # (measured: that long poll, not the window, set how stale the live answer was).
            fetch_max_wait_ms=max(10, min(500, int(self.settings.batch_max_seconds * 500))),
            session_timeout_ms=self.settings.session_timeout_ms,
            heartbeat_interval_ms=self.settings.heartbeat_interval_ms,
            rebalance_timeout_ms=self.settings.rebalance_timeout_ms,
            # Range assignment gives partition i of every topic to one worker:
            # a ticket's events (tickets and messages topics) and alerts meet there.
            partition_assignment_strategy=(RangePartitionAssignor,),
        )
        self.checkpoint.consumer = self.consumer
        self.consumer.subscribe(list(self._logical), listener=_Rebalance(self))
        await self.consumer.start()

    async def on_stop(self) -> None:
        # A step that cannot finish (ClickHouse down) gives up instead of holding the stop: nothing is
        # committed, and the batch comes again after the restart.
        self.checkpoint.stopping.set()
        if self.consumer is not None:
            await self._finish_flushes()
            await self.consumer.stop()  # leaves the group; revokes run first
        if self.producer is not None:
            await self.producer.stop()
        await self.ends.close()
        self._db.shutdown(wait=True)
        self._reads.shutdown(wait=True)
        self.reader.close()
        gc.enable()

    @Service.task
    async def _consume(self) -> None:
        assert self.consumer is not None
        while not self.should_stop:
            try:
                # never more than the batch has room for: a batch holds at most batch_max_rows records
                records = await self.consumer.getmany(
                    timeout_ms=100, max_records=max(1, self.settings.batch_max_rows - self.batch.records))
            except KafkaError as exc:
                log.warning("fetch failed, retrying: %s", exc)
                await asyncio.sleep(0.5)
                continue
            if records and self.stats.first_record_at is None:
                self.stats.first_record_at = time.time()
                self.stats.loop_cpu_at_first_record = time.thread_time()
            if records and not self._settled.is_set():
                await self._settled.wait()
            assigned = self.consumer.assignment()
            batch = self.batch
            for tp, recs in records.items():
                if tp not in assigned:
                    continue  # revoked meanwhile: uncommitted, its new owner reads it again
                self._fetched[tp] = recs[-1].offset + 1
                self.builder.add_records(batch, self._logical[tp.topic], tp.partition, recs)
            room = self.flights.has_room()
            now = time.monotonic()
            # Facts rows waiting for their window are written by the next flush, or without one when due or when
            # the stream is quiet (an empty batch)
            if (batch_due(batch, now, room, self.settings.batch_max_rows, self.settings.batch_max_seconds)
                    or (room and not records and self.facts.pending
                        and (self.facts.due(now) or not self._backlog()))):
                await self._start_flush()

    @Service.timer(60.0)
    async def _prune_live(self) -> None:
        self.live.prune(datetime.now(UTC))

    @Service.task
    async def _alert_timer(self) -> None:
        await self.alerter.run(lambda: self.should_stop)

    async def _start_flush(self) -> None:
        """Hand the current batch to a flush (flights.py: applied while the one before it commits)."""
        await self.flights.room()
        freeze_heap(records_in_flight=self.flights.waiting + self.batch.records)
        if self.tickets.evict_after is not None and time.monotonic() - self._evicted_at >= EVICT_EVERY_S:
            await self.flights.drain()  # no applied batch is uncommitted while tickets leave memory
            self._evict()
        batch, self.batch = self.batch, Batch()
        if (batch.records or self.facts.pending) and not self.checkpoint.stopping.is_set():
            self.flights.start(batch, lambda: self._apply(batch))

    async def _finish_flushes(self) -> None:
        self._draining = True
        try:
            await self._start_flush()
            await self.flights.drain()
        finally:
            self._draining = False
        freeze_heap()

    @Service.task
    async def _watch_loop(self) -> None:
        """Event-loop lag: how late a 0.5 s sleep wakes (a blocking call shows here first)."""
        while not self.should_stop:
            started = time.monotonic()
            await asyncio.sleep(0.5)
            self.loop_lag = max(time.monotonic() - started - 0.5, 0.0)
            metrics.EVENT_LOOP_LAG.set(self.loop_lag)

    def health(self) -> dict:
        """What /healthz answers: unhealthy while ClickHouse inserts keep failing or the loop stalls."""
        failing = self.checkpoint.failing_since
        failing_for = round(time.monotonic() - failing, 1) if failing is not None else 0.0
        problems = []
        if failing_for > 0:
            problems.append(f"ClickHouse inserts failing for {failing_for}s")
        if self.loop_lag > 2.0:
            problems.append(f"event loop {self.loop_lag:.1f}s late")
        return {"ok": not problems, "problems": problems, "ready": self.ready}

    async def _apply(self, batch: Batch) -> tuple[dict, float, float]:
        """A batch into memory: ticket state and rows, facts rows, live figures. Returns the touched tickets
        and how long tickets and facts took."""
        started = time.monotonic()
        for event in batch.config_events:  # before the tickets of this flush (the config follower may lag)
            self.config.apply(event)  # type: ignore[arg-type]
        touched: dict = {}
        # Tickets and conversations are separate state: the conversations' reload query (most batches bring
        # a new conversation) is sent first and runs on the read session's thread while the tickets are applied.
        await asyncio.gather(self._apply_conversations(batch), self._apply_tickets(batch))
        t_tickets = time.monotonic()
        for event, partition in batch.live_events:
            self.live.add(event, partition)
        self._flushes += 1
        # Touched without an event of this batch: stored tickets whose records came again (restate); their rows
        # are stated now, or the commit would move past the records that were to bring them back.
        if (batch.ticket_events or batch.message_events or self.facts.folds.touched or self.facts.reconfigured()
                or self.facts.pending):
            coalesce_s = self.settings.facts_coalesce_s if self._backlog() and not self._draining else 0.0
            facts, touched = self.tickets.facts_rows(time.monotonic(), coalesce_s, self._flushes)
            if facts.rows:
                batch.tables["ticket_facts"] = facts
                metrics.FACTS_WRITTEN.inc(facts.rows)
            metrics.FACTS_WAITING.set(len(self.facts.pending))
            self.live.touch(touched)
        batch.hold = self._hold(batch)
        # Last, once everything of the batch is applied: an answer computed before this is not given again. The
        # touched tickets are the events' own (and merges' within their account); a new configuration moves
        # the version by itself.
        self.live.applied(batch.ticket_events, batch.message_events, batch.live_events)
        return touched, t_tickets - started, time.monotonic() - t_tickets

    def _backlog(self) -> bool:
        """At least half a batch of records waits, at the broker or fetched, as far as the last fetches told (a
        fetch answer carries its partition's high watermark): the stream is behind, and facts rows are coalesced."""
        consumer = self.consumer
        if consumer is None:
            return False
        behind = 0
        for tp in consumer.assignment():
            fetched, end = self._fetched.get(tp), consumer.highwater(tp)
            if fetched is not None and end is not None and end > fetched:
                behind += end - fetched
        return behind >= max(1, self.settings.batch_max_rows // 2)

    def _hold(self, batch: Batch) -> dict[tuple[str, int], int]:
        """Per ticket and message partition, the first offset of the flushes since the oldest facts row that
        waits: a crash redelivers from there, and the redelivered tickets' facts are stated again
        (`Batch.restate`), so the rows that waited are never lost."""
        oldest = self.facts.oldest_pending()
        if oldest is None:
            self._since_waiting.clear()
            return {}
        firsts = {k: o for k, o in batch.first_offsets.items() if k[0] in ("tickets", "messages")}
        self._since_waiting.append((self._flushes, firsts))
        self._since_waiting = [(n, f) for n, f in self._since_waiting if n >= oldest]
        hold: dict[tuple[str, int], int] = {}
        for _, offsets in self._since_waiting:
            for position, offset in offsets.items():
                if offset < hold.get(position, offset + 1):
                    hold[position] = offset
        return hold

    async def _apply_tickets(self, batch: Batch) -> None:
        if batch.restate:
            await self.tickets.restate(batch.restate)
        if batch.ticket_events or batch.message_events:
            changed, refused = await self.tickets.apply(batch.ticket_events, batch.message_events)
            for event, source, code, reason in refused:
                self.progress.builder.refuse(batch, event, source, code, reason)
            tickets = self.tickets.ticket_rows(changed)
            if tickets.rows:
                batch.tables["tickets"] = tickets

    async def _apply_conversations(self, batch: Batch) -> None:
        if batch.agent_events:
            conversations, refused = await self.conversations.rows(batch.agent_events)
            for event, source, code, reason in refused:
                self.progress.builder.refuse(batch, event, source, code, reason)
            if conversations.rows:
                batch.tables["agent_conversation_facts"] = conversations

    async def _commit(self, applied: list[tuple[Batch, tuple[dict, float, float]]]) -> None:
        """Applied batches as one commit (flights.py)."""
        batch = merge_batches([b for b, _ in applied])
        touched: dict = {}
        for _, (batch_touched, _, _) in applied:
            touched.update(batch_touched)
        started = time.monotonic()
        written = await self.checkpoint.commit(batch, touched)
        self._account(batch, written)
        log.debug("commit of %d records in %d batches (applied in %s s; tickets, facts), %d tickets: %.3fs",
                  batch.records, len(applied), [(round(t, 3), round(f, 3)) for _, (_, t, f) in applied], len(touched),
                  time.monotonic() - started)
        metrics.SINK_BATCH_ROWS.observe(written)
        metrics.SINK_FLUSH_SECONDS.observe(time.monotonic() - batch.started)

    def _account(self, batch: Batch, written: int) -> None:
        s = self.stats
        s.records += batch.records
        s.events += sum(batch.consumed.values())
        s.dead_lettered += len(batch.dead_letters)
        s.duplicates += sum(batch.duplicates.values())
        s.already_stored += batch.already_stored
        s.rows_written += written
        s.flushes += 1
        s.last_commit_at = time.time()
        s.loop_cpu_at_last_commit = time.thread_time()
        self._count_resident()
        for (topic, kind), n in batch.consumed.items():
            metrics.EVENTS_CONSUMED.labels(topic, kind).inc(n)
        for topic, n in batch.duplicates.items():
            metrics.DUPLICATES.labels(topic).inc(n)
        metrics.ALREADY_STORED.inc(batch.already_stored)

    def _evict(self) -> None:
        """Closed tickets past their time leave memory, every EVICT_EVERY_S, when no flush is in flight (their
        facts rows are stored; nothing awaits in between)."""
        self._evicted_at = time.monotonic()
        gone = self.tickets.evict(datetime.now(UTC))
        if gone:
            self.live.evicted()
        metrics.TICKETS_EVICTED.inc(gone)
        self.stats.tickets_evicted += gone
        self._count_resident()

    def _count_resident(self) -> None:
        reloaded = self.tickets.reloaded
        metrics.TICKETS_RELOADED.inc(reloaded - self.stats.tickets_reloaded)
        self.stats.tickets_reloaded = reloaded
        self.stats.tickets_resident = len(self.facts.folds)
        self.stats.facts_waiting = len(self.facts.pending)
        metrics.TICKETS_RESIDENT.set(self.stats.tickets_resident)

    # --- rebalance ------------------------------------------------------------

    def _by_topic(self, partitions) -> Assignment:
        by_topic: Assignment = {}
        for tp in partitions:
            if tp.topic in self._logical:
                by_topic.setdefault(self._logical[tp.topic], []).append(tp.partition)
        return by_topic

    async def partitions_revoked(self, revoked) -> None:
        # Everything consumed so far is written and committed before another
        # worker may take these partitions over.
        self._settled.clear()
        for tp in revoked:
            self._fetched.pop(tp, None)
        await self._finish_flushes()
        await self.partition_state.revoke(self._by_topic(revoked))
        self.live.changed_all()

    async def partitions_assigned(self, assigned) -> None:
        started = time.monotonic()
        assert self.consumer is not None
        for tp in assigned:  # where fetching starts, until records come (_backlog)
            self._fetched[tp] = await self.consumer.committed(tp) or 0
        by_topic = self._by_topic(assigned)
        self._assigning, self._gap_read = by_topic, None
        try:
            await self.partition_state.assign(by_topic)
        finally:
            self._assigning, self._gap_read = None, None
            self.live.changed_all()  # answers computed while the stores were restoring are not kept
        freeze_heap(force=True)
        self.stats.restore_seconds = round(time.monotonic() - started, 3)
        self._count_resident()
        self._settled.set()
        log.info("assigned %s; stored offsets %s", {t: sorted(p) for t, p in by_topic.items()},
                 {f"{t}/{p}@{table}": o for (table, t, p), o in self.builder.watermarks.items()})

    async def _load_recent(self, partitions: dict[str, list[int]], stored: dict, since: datetime) -> list:
        return await self.db_call(live_store.load_recent, self.warehouse, self.builder.source_id, partitions,
                                  stored, since)

    async def _replay_gap(self, partitions: list[int]) -> tuple[list[Sourced], list[Sourced]]:
        """Ticket and message events the group committed but this worker's ClickHouse does not hold."""
        batch = await self._gaps({"tickets": partitions, "messages": partitions})
        return batch.ticket_events, batch.message_events

    async def _replay_live_gap(self, assignment: Assignment) -> list:
        """Calls, feedback and rep statuses likewise, with their partitions (for the live keeper)."""
        return (await self._gaps(assignment)).live_events

    async def _gaps(self, asked: Assignment) -> Batch:
        """During an assignment, one read for the ticket store and the live keeper both (one holes query per
        table, one reader session); outside one, what was asked."""
        if self._assigning is None:
            return await self._read_gaps(asked)
        if self._gap_read is None:
            whole = {t: ps for t, ps in self._assigning.items() if t in GAP_TOPICS}
            self._gap_read = asyncio.ensure_future(self._read_gaps(whole))
        return await self._gap_read

    async def _read_gaps(self, partitions: Assignment) -> Batch:
        """What the group committed but this worker's ClickHouse does not hold, read back from the broker.

        With one shared ClickHouse there is nothing to read. With a store per
        worker (chDB), a partition that moves here was sunk elsewhere, in part
        or since some offset: that history is read back from the broker (the
        holes below this store's highest offset and the tail above it, up to
        the group's commit), so clocks, facts and live figures continue. Its
        rows are not written: they are not ours to sink.
        """
        assert self.consumer is not None
        wanted: dict[TopicPartition, list[tuple[int, int]]] = {}
        for topic, parts in partitions.items():
            table = TABLE_OF_TOPIC[topic]
            commits: dict[int, tuple[TopicPartition, int]] = {}
            for p in parts:
                tp = TopicPartition(self.settings.topic(topic), p)
                committed = await self.consumer.committed(tp)
                if committed is not None:
                    commits[p] = (tp, committed)
            holes = {}
            # A shared server has no one else's holes; nor has a partition the group never committed (a new
            # group, or an embedded broker restarted empty), and the read goes through every stored offset.
            if commits and self.settings.clickhouse_dsn.startswith("chdb://"):
                holes = await self.db_call(self.warehouse.holes, table, self.builder.source_id, topic, list(commits))
            for p, (tp, committed) in commits.items():
                stored = self.builder.watermarks.get((table, topic, p), -1)
                ranges = [(a, min(b, committed)) for a, b in holes.get(p, []) if a < committed]
                if committed > stored + 1:
                    ranges.append((stored + 1, committed))
                if ranges:
                    wanted[tp] = ranges
        # no watermarks (everything read is history to take in), the same de-duplication windows
        replay = BatchBuilder(self.builder.dedupe_capacity, self.builder.source_id, seen=self.builder.seen)
        batch = Batch()
        if wanted:
            spans = {tp: (r[0][0], r[-1][1]) for tp, r in wanted.items()}
            async for r in read_ranges(self.settings.bootstrap, spans):
                if any(a <= r.offset < b for a, b in wanted[TopicPartition(r.topic, r.partition)]):
                    replay.add(batch, SourceRef(self._logical[r.topic], r.partition, r.offset), r.key, r.value)
        return batch

    async def lag(self) -> dict[str, int]:
        """Records not yet committed, per assigned partition, to the real end of each (also a gauge).

        Measured from the offset committed after ClickHouse has the rows, not from the fetch position:
        fetched records waiting in a batch are not done. And to the real end: Tansu answers the end-offset
        query with its last batch's base offset + 1, so the end is read off that batch itself.
        """
        if self.consumer is None:
            return {}
        assigned = list(self.consumer.assignment())
        ends = await self.ends.read(assigned)
        lag = {}
        for tp in assigned:
            done = self.checkpoint.committed.get(tp)
            if done is None:
                done = await self.consumer.committed(tp) or 0
            value = max(ends.get(tp, 0) - done, 0)
            lag[f"{tp.topic}/{tp.partition}"] = value
            metrics.CONSUMER_LAG.labels(tp.topic, str(tp.partition)).set(value)
        return lag
