"""The hot path: a batched consumer of all event topics, sinking to ClickHouse.

Faust dispatches every record through its conductor and a per-agent queue,
which costs ~100 µs per event here (≈9k events/s even with `stream.take`).
This service, run by the Faust worker, instead takes records from the broker
in batches with aiokafka (Faust's own client) and hands each batch to the
pure core (`streams.worker.batch`), then writes column-oriented inserts. Offsets are
committed only after ClickHouse has the rows and the dead-letter topic has
the rejects, and the sink skips what it already stored (see streams.worker.batch),
so a crash at any point neither loses nor duplicates a row.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener
from aiokafka.coordinator.assignors.range import RangePartitionAssignor
from aiokafka.errors import CommitFailedError, KafkaError
from mode import Service
from pydantic import ValidationError

from streams.worker.settings import Settings
from schemas.events import ConfigUpdated
from schemas.topics import DEAD_LETTER_TOPIC, TOPICS
from sinks import facts_store, live_store, ticket_store
from sinks.clickhouse import Warehouse
from sinks.rows import DEAD_LETTER_TABLE, TABLE_OF_TOPIC, ColumnBatch
from streams.worker import metrics
from streams.worker.batch import Batch, BatchBuilder
from streams.core.config_store import ConfigStore
from streams.core.decode import SourceRef
from streams.worker.facts_keeper import FactsKeeper
from streams.worker.live_keeper import KEEP, LiveKeeper
from streams.worker.sla_alerter import SlaAlerter, alerts_topic
from streams.core.ticket_properties import TicketState, update_properties
from streams.worker.topic_reader import read_ranges, read_topic

log = logging.getLogger(__name__)
TICKET_CACHE_PER_PARTITION = 100_000


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
    first_record_at: float | None = None  # wall clock
    last_commit_at: float | None = None

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def freeze_heap() -> None:
    """Garbage collection on the worker's schedule, not per allocation count.

    Ticket folds are millions of small long-lived objects. With automatic
    collection, each flush's allocations triggered collections that walked
    them again and again (measured: a third of the facts time). So it is off
    in the worker: after each flush (and a restore), one collection finds the
    new cycles (a few hundred objects) and the survivors are frozen, never
    scanned again. They are still freed by reference counting when dropped;
    only cycles among them would outlive their use, and ticket state has none.
    """
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
        self.stats = Stats()
        self.builder = BatchBuilder(settings.dedupe_window, source_id)
        self.batch = Batch()
        self.tickets: dict[int, OrderedDict[tuple[str, str], TicketState]] = {}
        # One thread owns the ClickHouse client: the driver is not thread-safe,
        # and inserts overlap with fetching the next batch.
        self._db = ThreadPoolExecutor(max_workers=1, thread_name_prefix="clickhouse")
        self._flushing: asyncio.Task | None = None
        self._logical = {settings.topic(t.name): t.name for t in TOPICS}
        self.consumer: AIOKafkaConsumer | None = None
        self.producer: AIOKafkaProducer | None = None
        # aiokafka may fetch for new partitions before our assignment callback
        # has read their stored progress back: records wait for this.
        self._settled = asyncio.Event()
        self.alerter = SlaAlerter(settings.bootstrap, alerts_topic(settings.topic_prefix), settings.alert_max_age_s)
        self.facts = FactsKeeper(config, self.alerter)
        self.live = LiveKeeper(config, self.facts, self._state_of)

    @property
    def ready(self) -> bool:
        """Partitions are assigned and their state restored."""
        return self._settled.is_set()

    async def db_call(self, fn, *args):
        """Run a ClickHouse call on the one thread that owns the client."""
        return await asyncio.get_running_loop().run_in_executor(self._db, fn, *args)

    async def on_start(self) -> None:
        bootstrap = self.settings.bootstrap
        self.producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5, acks="all")
        await self.producer.start()
        self.alerter.producer = self.producer
        await self._read_configs()
        gc.disable()  # see freeze_heap
        self.consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap,
            group_id=self.settings.group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_partition_fetch_bytes=8 * 1024 * 1024,
            fetch_max_bytes=64 * 1024 * 1024,
            session_timeout_ms=self.settings.session_timeout_ms,
            heartbeat_interval_ms=self.settings.heartbeat_interval_ms,
            rebalance_timeout_ms=self.settings.rebalance_timeout_ms,
            # Range assignment gives partition i of every topic to one worker:
            # a ticket's events (tickets and messages topics) and alerts meet there.
            partition_assignment_strategy=(RangePartitionAssignor,),
        )
        self.consumer.subscribe(list(self._logical), listener=_Rebalance(self))
        await self.consumer.start()

    async def _read_configs(self) -> None:
        """Every account's configuration before the first event: targets and calendars must be known
        when clocks are restored (the Faust config agent keeps applying later changes)."""
        async for record in read_topic(self.settings.bootstrap, self.settings.topic("config")):
            try:
                self.config.apply(ConfigUpdated.model_validate_json(record.value))
            except ValidationError:
                pass  # dead-lettered by the ingest path, which reads the same record

    async def on_stop(self) -> None:
        if self.consumer is not None:
            await self._finish_flushes()
            await self.consumer.stop()  # leaves the group; revokes run first
        if self.producer is not None:
            await self.producer.stop()
        self._db.shutdown(wait=True)
        gc.enable()

    @Service.task
    async def _consume(self) -> None:
        assert self.consumer is not None
        while not self.should_stop:
            try:
                records = await self.consumer.getmany(timeout_ms=100, max_records=self.settings.batch_max_rows)
            except KafkaError as exc:
                log.warning("fetch failed, retrying: %s", exc)
                await asyncio.sleep(0.5)
                continue
            if records and self.stats.first_record_at is None:
                self.stats.first_record_at = time.time()
            if records and not self._settled.is_set():
                await self._settled.wait()
            assigned = self.consumer.assignment()
            batch, add, logical = self.batch, self.builder.add, self._logical
            for tp, recs in records.items():
                if tp not in assigned:
                    continue  # revoked meanwhile: uncommitted, its new owner reads it again
                topic = logical[tp.topic]
                for r in recs:
                    add(batch, SourceRef(topic, tp.partition, r.offset), r.key, r.value)
            if batch.records and (
                batch.records >= self.settings.batch_max_rows
                or time.monotonic() - batch.started >= self.settings.batch_max_seconds
            ):
                await self._start_flush()

    @Service.timer(60.0)
    async def _prune_live(self) -> None:
        self.live.prune(datetime.now(UTC))

    @Service.task
    async def _alert_timer(self) -> None:
        await self.alerter.run(lambda: self.should_stop)

    async def _start_flush(self) -> None:
        """Hand the current batch to a flush task; at most one flush in flight."""
        if self._flushing is not None:
            await self._flushing
        batch, self.batch = self.batch, Batch()
        if batch.records:
            self._flushing = asyncio.ensure_future(self._flush(batch))

    async def _finish_flushes(self) -> None:
        await self._start_flush()
        if self._flushing is not None:
            await self._flushing
            self._flushing = None

    async def _flush(self, batch: Batch) -> None:
        started = time.monotonic()
        for event in batch.config_events:  # before the tickets of this flush (the Faust agent may lag)
            self.config.apply(event)  # type: ignore[arg-type]
        tickets = await self._ticket_rows(batch)
        if tickets.rows:
            batch.tables["tickets"] = tickets
        t_tickets = time.monotonic()
        touched: dict = {}
        for event in batch.live_events:
            self.live.add(event)
        if batch.ticket_events or batch.message_events:
            facts, touched = await self._facts_rows(batch)
            if facts.rows:
                batch.tables["ticket_facts"] = facts
                metrics.FACTS_WRITTEN.inc(facts.rows)
            self.live.touch(touched)
        t_facts = time.monotonic()
        await self._send_dead_letters(batch)
        written = 0
        # State tables first: if the worker dies before the raw rows are in,
        # the events come again and rewrite them (raw rows are the watermark).
        tables = sorted(batch.tables.items(), key=lambda tc: tc[0] not in ("tickets", "ticket_facts"))
        for table, columns in tables:
            if columns.rows:
                await self._insert_with_retry(table, columns)
                metrics.ROWS_WRITTEN.labels(table).inc(columns.rows)
                if table not in ("tickets", "ticket_facts"):
                    written += columns.rows
        t_written = time.monotonic()
        if touched:
            await self.alerter.evaluate(touched)
        await self._commit(batch)
        self._account(batch, written)
        t_committed = time.monotonic()
        freeze_heap()
        log.debug("flush of %d records: tickets %.3fs, facts %.3fs (%d tickets), writes %.3fs, alerts+commit %.3fs, "
                 "gc %.3fs", batch.records, t_tickets - started, t_facts - t_tickets, len(touched),
                 t_written - t_facts, t_committed - t_written, time.monotonic() - t_committed)
        metrics.SINK_BATCH_ROWS.observe(written)
        metrics.SINK_FLUSH_SECONDS.observe(time.monotonic() - started)

    async def _insert_with_retry(self, table: str, columns: ColumnBatch) -> None:
        delay = 0.2
        while True:
            try:
                await self.db_call(self.warehouse.insert_columns, table, columns.columns, columns.data)
                return
            except Exception as exc:  # keep the batch and retry: never drop rows
                metrics.SINK_ERRORS.inc()
                log.error("insert into %s failed (%s); retrying in %.1fs", table, exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)

    async def _ticket_rows(self, batch: Batch) -> ColumnBatch:
        rows = ColumnBatch(ticket_store.COLUMNS)
        missing = set()
        for event, source in (*batch.ticket_events, *batch.message_events):
            cache = self.tickets.setdefault(source.partition, OrderedDict())
            if (event.account_id, event.ticket_id) not in cache:
                missing.add((event.account_id, event.ticket_id))
        if missing:
            loaded = await self.db_call(ticket_store.load_states, self.warehouse, missing)
            for event, source in (*batch.ticket_events, *batch.message_events):
                key = (event.account_id, event.ticket_id)
                if key in loaded:
                    self.tickets[source.partition][key] = loaded[key]
        touched: dict[tuple[str, str], tuple[int, int]] = {}
        for event, source in batch.ticket_events:
            cache = self.tickets[source.partition]
            key = (event.account_id, event.ticket_id)
            cache[key] = update_properties(cache.get(key), event)
            cache.move_to_end(key)
            touched[key] = (source.partition, source.offset)
        for key, (partition, offset) in touched.items():
            cache = self.tickets[partition]
            state = cache[key]
            rows.append(ticket_store.state_row(
                state, ticket_store.closed_at_for(state, self.config.is_closed_stage), partition, offset))
            while len(cache) > TICKET_CACHE_PER_PARTITION:
                cache.popitem(last=False)
        return rows

    def _state_of(self, partition: int, key) -> TicketState | None:
        return self.tickets.get(partition, {}).get(key)

    async def _facts_rows(self, batch: Batch):
        merged_history = {}
        merges = [e for e, _ in batch.ticket_events if e.type == "ticket.merged"]  # type: ignore[attr-defined]
        in_batch = {(e.account_id, e.ticket_id) for e, _ in (*batch.ticket_events, *batch.message_events)} \
            if merges else set()
        for event in merges:
            key = (event.account_id, event.merged_ticket_id)  # type: ignore[attr-defined]
            if key not in in_batch and self.facts.folds.get(key) is None:
                # another worker owns the merged ticket: read its messages back
                merged_history[key] = await self.db_call(facts_store.load_message_steps, self.warehouse, *key)
        self.facts.apply_events((*batch.ticket_events, *batch.message_events), self._state_of,
                                lambda account, ticket: merged_history.get((account, ticket), []))
        return self.facts.flush_rows(self._state_of)

    async def _send_dead_letters(self, batch: Batch) -> None:
        if not batch.dead_letters:
            return
        assert self.producer is not None
        topic = self.settings.topic(DEAD_LETTER_TOPIC)
        futures = []
        for dead in batch.dead_letters:
            headers = [
                ("deskpulse.reason", dead.reason.encode()),
                ("deskpulse.reason_code", dead.reason_code.encode()),
                ("deskpulse.source_topic", self.settings.topic(dead.source.topic).encode()),
                ("deskpulse.source_partition", str(dead.source.partition).encode()),
                ("deskpulse.source_offset", str(dead.source.offset).encode()),
            ]
            futures.append(await self.producer.send(topic, value=dead.value or b"", key=dead.key, headers=headers))
            metrics.DEAD_LETTERED.labels(dead.source.topic, dead.reason_code).inc()
            metrics.EVENTS_PRODUCED.labels(DEAD_LETTER_TOPIC, dead.reason_code).inc()
        await asyncio.gather(*futures)

    async def _commit(self, batch: Batch) -> None:
        assert self.consumer is not None
        offsets = {TopicPartition(self.settings.topic(t), p): o for (t, p), o in batch.next_offsets.items()}
        assigned = self.consumer.assignment()
        offsets = {tp: o for tp, o in offsets.items() if tp in assigned}
        if not offsets:
            return
        try:
            await self.consumer.commit(offsets)
        except (CommitFailedError, KafkaError) as exc:
            # The rows are stored; a redelivery will be recognised and skipped.
            log.warning("offset commit failed (%s); redelivered records will be skipped by the sink", exc)

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
        for (topic, kind), n in batch.consumed.items():
            metrics.EVENTS_CONSUMED.labels(topic, kind).inc(n)
        for topic, n in batch.duplicates.items():
            metrics.DUPLICATES.labels(topic).inc(n)
        metrics.ALREADY_STORED.inc(batch.already_stored)

    # --- rebalance ------------------------------------------------------------

    async def partitions_revoked(self, revoked) -> None:
        # Everything consumed so far is written and committed before another
        # worker may take these partitions over.
        self._settled.clear()
        await self._finish_flushes()
        await self.alerter.release({tp.partition for tp in revoked if self._logical.get(tp.topic) == "tickets"})
        for tp in revoked:
            topic = self._logical.get(tp.topic)
            if topic:
                self.builder.forget(topic, tp.partition)
            if topic == "tickets":
                self.tickets.pop(tp.partition, None)
                self.facts.folds.forget(tp.partition)
                self.live.forget(tp.partition)

    async def partitions_assigned(self, assigned) -> None:
        by_topic: dict[str, list[int]] = {}
        for tp in assigned:
            if tp.topic in self._logical:
                by_topic.setdefault(self._logical[tp.topic], []).append(tp.partition)
        await self.db_call(self._load_progress, by_topic)
        await self._restore_facts(by_topic.get("tickets", []))
        self._settled.set()
        log.info("assigned %s; stored offsets %s", {t: sorted(p) for t, p in by_topic.items()},
                 {f"{t}/{p}@{table}": o for (table, t, p), o in self.builder.watermarks.items()})

    async def _restore_facts(self, partitions: list[int]) -> None:
        """Rebuild the folds of these partitions from ClickHouse, then resume alerting for them."""
        if not partitions:
            return
        started = time.monotonic()
        offsets = {(topic, p): o for (table, topic, p), o in self.builder.watermarks.items()
                   if table in ("ticket_events", "message_events")}
        n = await self.db_call(lambda: self.facts.restore(facts_store.load_history(
            self.warehouse, self.builder.source_id, partitions, offsets)))
        # Stored facts already hold this history; events redelivered after the
        # last commit touch their tickets again.
        self.facts.folds.take_touched()
        self.facts.mark_config_seen()
        replayed = await self._replay_gap(partitions)
        open_keys = self.facts.open_keys(partitions)
        states = await self.db_call(ticket_store.load_states, self.warehouse, [k for _, k in open_keys])
        for partition, key in open_keys:
            cache = self.tickets.setdefault(partition, OrderedDict())
            if key in states:
                cache[key] = states[key]
            fold = self.facts.folds.partitions[partition][key]
            self.facts.watch(key, partition, self.facts.clocks(key, fold, cache.get(key)), cache.get(key))
        now = datetime.now(UTC)
        self.live.restored(partitions, now)
        live_offsets = {(topic, p): o for (table, topic, p), o in self.builder.watermarks.items()
                        if table in ("feedback_events", "call_events", "availability_events")}
        for event in await self.db_call(live_store.load_recent, self.warehouse, self.builder.source_id, partitions,
                                        live_offsets, now - KEEP):
            self.live.add(event)
        await self.alerter.restore(partitions)
        await self.alerter.evaluate([k for _, k in open_keys])
        freeze_heap()
        log.info("restored %d events (+%d from the broker) of %d open tickets on partitions %s in %.2fs", n,
                 replayed, len(open_keys), partitions, time.monotonic() - started)

    async def _replay_gap(self, partitions: list[int]) -> int:
        """Fold what the group committed but this worker's ClickHouse does not hold.

        With one shared ClickHouse there is no gap. With a store per worker
        (chDB), a partition that moves here was sunk elsewhere: its ticket
        history is read back from the broker, so clocks and facts continue.
        """
        assert self.consumer is not None
        gaps: dict[TopicPartition, tuple[int | None, int | None]] = {}
        for topic in ("tickets", "messages"):
            for p in partitions:
                tp = TopicPartition(self.settings.topic(topic), p)
                committed = await self.consumer.committed(tp)
                stored = self.builder.watermarks.get((TABLE_OF_TOPIC[topic], topic, p), -1)
                if committed is not None and committed > stored + 1:
                    gaps[tp] = (stored + 1, committed)
        if not gaps:
            return 0
        batch = Batch()
        async for r in read_ranges(self.settings.bootstrap, gaps):
            self.builder.add(batch, SourceRef(self._logical[r.topic], r.partition, r.offset), r.key, r.value)
        await self._ticket_rows(batch)  # ticket states (its rows are not written: they are not ours to sink)
        self.facts.apply_events((*batch.ticket_events, *batch.message_events), self._state_of)
        return len(batch.ticket_events) + len(batch.message_events)

    def _load_progress(self, by_topic: dict[str, list[int]]) -> None:
        """Read back what ClickHouse already holds for newly assigned partitions."""
        source = self.builder.source_id
        for topic, partitions in by_topic.items():
            table = TABLE_OF_TOPIC[topic]
            for name in (table, DEAD_LETTER_TABLE):
                for partition, offset in self.warehouse.watermarks(name, source, topic, partitions).items():
                    self.builder.watermarks[(name, topic, partition)] = offset
            for partition in partitions:
                seen = self.builder.seen_ids(topic, partition)
                for event_id in reversed(self.warehouse.recent_event_ids(table, topic, partition,
                                                                          self.builder.dedupe_capacity)):
                    seen.add(event_id)

    async def lag(self) -> dict[str, int]:
        """Records not yet consumed, per assigned partition (also exported as a gauge)."""
        if self.consumer is None:
            return {}
        lag = {}
        for tp in self.consumer.assignment():
            high = self.consumer.highwater(tp)
            if high is None:
                continue
            value = max(high - await self.consumer.position(tp), 0)
            lag[f"{tp.topic}/{tp.partition}"] = value
            metrics.CONSUMER_LAG.labels(tp.topic, str(tp.partition)).set(value)
        return lag
