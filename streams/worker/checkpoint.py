"""The commit sequence of one flush, in numbered steps; each finishes before the next starts.

Model: quix-streams' `checkpointing/checkpoint.py`. A crash between any two
steps redelivers the batch from the last committed offsets, and every step
is safe to repeat:

1. dead letters to their topic. Before the inserts: the `dead_letters` rows
   are the watermark that says a reject was handled, so the topic must
   have it first (a repeat after a crash is possible, a loss is not).
2. inserts into ClickHouse, state tables (`tickets`, `ticket_facts`) before
   the raw tables, whose stored offsets are the watermark that later skips
   redelivered records: state is rewritten, never skipped.
3. SLA alerts for the tickets the flush touched (exactly once by alert id).
4. offsets to the consumer group.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import CommitFailedError, KafkaError

from schemas.topics import DEAD_LETTER_TOPIC
from sinks.clickhouse import Warehouse
from sinks.errors import is_deterministic, one_line
from sinks.rows import DEAD_LETTER_TABLE, RAW_COLUMNS, STATE_KEYS, ColumnBatch, table_columns
from streams.core.decode import MAX_REASON
from streams.worker import metrics
from streams.worker.batch import Batch
from streams.worker.settings import Settings
from streams.worker.sla_alerter import SlaAlerter
from streams.worker.state_manager import Assignment

log = logging.getLogger(__name__)
STATE_TABLES = tuple(STATE_KEYS)
# The broker's default record limit is 1 MiB; a dead letter stays well under it with its headers.
MAX_DEAD_LETTER_VALUE = 512 * 1024
MAX_DEAD_LETTER_KEY = 1024


class FlushAborted(RuntimeError):
    """The worker is stopping while a step cannot finish: nothing is committed, the batch comes again."""


class Checkpoint:
    def __init__(self, settings: Settings, warehouse: Warehouse, db_call: Callable[..., Awaitable],
                 alerter: SlaAlerter) -> None:
        self.settings, self.warehouse, self.db_call, self.alerter = settings, warehouse, db_call, alerter
        self.consumer: AIOKafkaConsumer | None = None
        self.producer: AIOKafkaProducer | None = None
        self.stopping = asyncio.Event()  # set on shutdown: a retrying step gives up (its batch comes again)
        self.failing_since: float | None = None  # monotonic time the inserts started failing (for /healthz)
        self.committed: dict[TopicPartition, int] = {}  # the offsets this worker committed last (for the lag)
        self.stored: dict[tuple[str, int], int] = {}  # (topic, partition) -> the offset after its stored records
        # A commit of at least this many records (a backlog) inserts all its tables in one call (`insert`).
        self.one_call_from = max(1, settings.batch_max_rows // 4)

    async def commit(self, batch: Batch, touched: Iterable) -> int:
        """Run the four steps for one batch; returns the raw rows written."""
        await self.send_dead_letters(batch)  # 1
        written = await self.insert(batch)  # 2
        if touched:
            await self.alerter.evaluate(touched)  # 3
        await self.commit_offsets(batch)  # 4
        return written

    async def send_dead_letters(self, batch: Batch) -> None:
        """Every reject to the dead-letter topic, bounded: an original too large for the topic is left out of
        the record (a header says so; the `dead_letters` table keeps it, by topic/partition/offset), and a
        record the broker still refuses is counted and logged, never allowed to stop the batch."""
        if not batch.dead_letters:
            return
        assert self.producer is not None
        topic = self.settings.topic(DEAD_LETTER_TOPIC)
        sends = []
        for dead in batch.dead_letters:
            value, key = dead.value or b"", (dead.key or b"")[:MAX_DEAD_LETTER_KEY]
            headers = [
                ("deskpulse.reason", dead.reason.encode()),
                ("deskpulse.reason_code", dead.reason_code.encode()),
                ("deskpulse.source_topic", self.settings.topic(dead.source.topic).encode()),
                ("deskpulse.source_partition", str(dead.source.partition).encode()),
                ("deskpulse.source_offset", str(dead.source.offset).encode()),
            ]
            if len(value) > MAX_DEAD_LETTER_VALUE:
                headers.append(("deskpulse.original", f"{len(value)} bytes: in the dead_letters table".encode()))
                value = b""
            sends.append(self._send_dead_letter(topic, dead, key, value, headers))
            metrics.DEAD_LETTERED.labels(dead.source.topic, dead.reason_code).inc()
            metrics.EVENTS_PRODUCED.labels(DEAD_LETTER_TOPIC, dead.reason_code).inc()
        await asyncio.gather(*sends)

    async def _send_dead_letter(self, topic: str, dead, key: bytes, value: bytes, headers: list) -> None:
        assert self.producer is not None
        for attempt in range(3):
            try:
                await self.producer.send_and_wait(topic, value=value, key=key, headers=headers)
                return
            except KafkaError as exc:
                retriable = getattr(exc, "retriable", False)
                log.warning("dead letter of %s/%s@%s not sent (%s)%s", dead.source.topic, dead.source.partition,
                            dead.source.offset, type(exc).__name__, "; retrying" if retriable else "")
                if not retriable:
                    if value:  # e.g. too large after all: send the reason without the original
                        value = b""
                        continue
                    break
                await asyncio.sleep(0.2 * 2 ** attempt)
        metrics.DEAD_LETTER_SEND_FAILURES.inc()

    async def insert(self, batch: Batch) -> int:
        """Every table of the batch, state tables first.

        A large commit (a backlog) inserts all of them in one call on the ClickHouse thread: one call per
        table waited for the event loop between tables while the loop applied the next batch (four to seven
        tables took 0.8 s for 0.3 s of inserting, and applies waited for commits; `make bench` 23.5k -> 25.8k
        ev/s). A small one (live traffic) goes table by table: when the next apply's point reads shared this
        thread they waited for all of them (one call made `make bench-live` p99 247 -> 414-493 ms). Those reads
        now have their own session (`IngestService.read_call`), and measured again, one call for every commit
        is within the spread (p99 255-275 ms against 241-279, five alternating pairs): the rule stays, as cheap.
        A table that fails in the one call, and every table after it, goes the careful way (`_insert`).
        """
        tables = [(t, c) for t, c in sorted(batch.tables.items(), key=lambda tc: tc[0] not in STATE_TABLES)
                  if c.rows]
        done: list[str] = []
        if len(tables) > 1 and batch.records >= self.one_call_from:
            try:
                await self.db_call(self._write_all, tables, done)
                self.failing_since = None
            except Exception as exc:  # noqa: BLE001 - retried, narrowed down or dead-lettered below
                log.debug("insert of %d tables stopped after %d: %s", len(tables), len(done), one_line(exc))
        written = 0
        for table, columns in tables:
            stored = columns.rows if table in done else await self._insert(table, columns)
            metrics.ROWS_WRITTEN.labels(table).inc(stored)
            if table not in STATE_TABLES:
                written += stored
        return written

    def _write_all(self, tables: list[tuple[str, ColumnBatch]], done: list[str]) -> None:
        for table, columns in tables:
            self._write(table, columns)
            done.append(table)

    async def _insert(self, table: str, columns: ColumnBatch) -> int:
        """Insert, retrying transient failures with backoff; a deterministic failure is narrowed down by
        halving until the rows ClickHouse refuses are found, and those are dead-lettered. Returns rows stored."""
        delay = 0.2
        while True:
            try:
                await self.db_call(self._write, table, columns)
                self.failing_since = None
                return columns.rows
            except Exception as exc:
                if is_deterministic(exc):
                    if columns.rows == 1:
                        await self._reject(table, columns.only_row(), exc)
                        return 0
                    first, second = columns.split()
                    return await self._insert(table, first) + await self._insert(table, second)
                metrics.SINK_ERRORS.inc()
                if self.failing_since is None:
                    self.failing_since = time.monotonic()
                log.error("insert into %s failed (%s); retrying in %.1fs", table, one_line(exc), delay)
                try:  # wakes at once when the worker is asked to stop
                    await asyncio.wait_for(self.stopping.wait(), timeout=delay)
                except TimeoutError:
                    pass
                # Only a failing insert gives up on a stop: a flush that can finish does (a stop that threw
                # away a half-inserted batch made the next owner of its partitions store the rest again).
                if self.stopping.is_set():
                    raise FlushAborted(f"stopping while the insert into {table} was failing") from exc
                delay = min(delay * 2, 10.0)

    def _write(self, table: str, columns: ColumnBatch) -> None:
        self.warehouse.insert_rows(table, columns.columns, columns.row_values)

    async def _reject(self, table: str, row: tuple, exc: BaseException) -> None:
        """A row ClickHouse refuses whatever happens: kept in `dead_letters` with the server's reason, counted."""
        metrics.ROWS_REJECTED.labels(table).inc()
        reason = f"insert into {table} refused: {one_line(exc)}"
        log.error("%s; the row is kept in dead_letters", reason)
        if table in RAW_COLUMNS:  # raw rows end with their source position
            source_id, topic, partition, offset = row[-4:]
        else:
            source_id, topic, partition, offset = "", table, 0, 0
        dead = (datetime.now(UTC), "insert_rejected", reason[:MAX_REASON], "", repr(row)[:MAX_DEAD_LETTER_VALUE],
                source_id, topic, partition, offset)
        rows = ColumnBatch(table_columns(DEAD_LETTER_TABLE))
        rows.append(dead)
        try:
            await self.db_call(self.warehouse.insert_rows, DEAD_LETTER_TABLE, rows.columns, rows.row_values)
        except Exception as again:  # noqa: BLE001 - the count and the log line above still tell
            log.error("the refused row could not be kept either: %s", one_line(again))

    async def commit_offsets(self, batch: Batch) -> None:
        """Every partition's offset after its stored records, but not past the first record whose ticket's facts
        row still waits (`batch.hold`): a partition held back by an earlier batch moves on with a later one,
        even one without records of it (an empty batch that writes the waiting rows)."""
        assert self.consumer is not None
        self.stored.update(batch.next_offsets)
        assigned = self.consumer.assignment()
        offsets = {}
        for (t, p), o in self.stored.items():
            tp = TopicPartition(self.settings.topic(t), p)
            o = min(o, batch.hold.get((t, p), o))
            if tp in assigned and o > self.committed.get(tp, -1):
                offsets[tp] = o
        if not offsets:
            return
        try:
            await self.consumer.commit(offsets)
            self.committed.update(offsets)
        except (CommitFailedError, KafkaError) as exc:
            # The rows are stored; a redelivery will be recognised and skipped.
            log.warning("offset commit failed (%s); redelivered records will be skipped by the sink", exc)

    # --- a partition store (see state_manager): what it committed, for the lag ---

    async def assign(self, assignment: Assignment) -> None:
        pass  # the lag reads the group's commit until this worker commits

    async def revoke(self, assignment: Assignment) -> None:
        """What this worker committed for revoked partitions is stale once another worker commits."""
        for topic, partitions in assignment.items():
            for p in partitions:
                self.committed.pop(TopicPartition(self.settings.topic(topic), p), None)
                self.stored.pop((topic, p), None)
