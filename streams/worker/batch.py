"""One sink batch: what a run of consumed records turns into (pure).

Records are sorted into column batches per table, dead letters and
duplicates. Two rules make redelivery harmless:
- a record whose offset is at or below its table's stored watermark for
  that partition is already in ClickHouse: it is skipped (but ticket and
  message events are still re-applied to ticket state and facts, which
  ignore an event they have seen);
- an event id already seen in this partition's window is a duplicate.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol

from schemas.events import Event
from sinks.rows import (
    DEAD_LETTER_TABLE,
    ROW_OF_TYPE,
    STATE_KEYS,
    TABLE_OF_TOPIC,
    ColumnBatch,
    dead_letter_row,
    table_columns,
)
from streams.core.decode import MAX_REASON, DeadLetter, SourceRef, decode
from streams.core.dedupe import SeenIds
from streams.core.event_twins import encode_event

LIVE_TYPES = frozenset({"feedback.submitted", "call.ended", "rep.status_changed"})
TICKET_TYPES = frozenset({"ticket.created", "ticket.updated", "ticket.merged", "ticket.deleted"})
# (table, topic, partition) -> highest offset stored in that table.
Watermarks = dict[tuple[str, str, int], int]


class RecordLike(Protocol):
    """What the builder reads of a consumed record (aiokafka's ConsumerRecord has it)."""

    @property
    def offset(self) -> int: ...
    @property
    def key(self) -> bytes | None: ...
    @property
    def value(self) -> bytes | None: ...


class Record(NamedTuple):
    offset: int
    key: bytes | None
    value: bytes | None


@dataclass(slots=True)
class Batch:
    started: float = field(default_factory=time.monotonic)
    records: int = 0
    tables: dict[str, ColumnBatch] = field(default_factory=dict)
    dead_letters: list[DeadLetter] = field(default_factory=list)
    ticket_events: list[tuple[Event, SourceRef]] = field(default_factory=list)
    message_events: list[tuple[Event, SourceRef]] = field(default_factory=list)
    config_events: list[Event] = field(default_factory=list)
    agent_events: list[tuple[Event, SourceRef]] = field(default_factory=list)  # stored ones too: folds skip repeats
    live_events: list[tuple[Event, int]] = field(default_factory=list)  # feedback, calls, rep statuses, partition
    next_offsets: dict[tuple[str, int], int] = field(default_factory=dict)
    first_offsets: dict[tuple[str, int], int] = field(default_factory=dict)  # (topic, partition) -> first record's
    # Already stored ticket and message events come again (after a crash): their tickets' facts are stated again
    restate: list[tuple[tuple[str, str], int | None]] = field(default_factory=list)  # ticket, its partition
    # Set by the apply: per (topic, partition), the first offset whose ticket's facts row still waits for its
    # coalescing window (facts_keeper.flush_rows); offsets are committed below it (checkpoint.commit_offsets)
    hold: dict[tuple[str, int], int] = field(default_factory=dict)
    consumed: Counter = field(default_factory=Counter)  # (topic, type)
    duplicates: Counter = field(default_factory=Counter)  # topic
    already_stored: int = 0

    def rows(self) -> int:
        return sum(b.rows for b in self.tables.values())

    def _table(self, name: str) -> ColumnBatch:
        batch = self.tables.get(name)
        if batch is None:
            batch = self.tables[name] = ColumnBatch(table_columns(name))
        return batch


def _restate(batch: Batch, event: Any, partition: int) -> None:
    """A stored ticket or message event came again: its tickets' facts are stated again (tickets.restate)."""
    kind = event.type
    if kind in TICKET_TYPES or kind == "message.created":
        batch.restate.append(((event.account_id, event.ticket_id), partition))
        if kind == "ticket.merged":  # the merged ticket may live in another partition
            batch.restate.append(((event.account_id, event.merged_ticket_id), None))


def batch_due(batch: Batch, now: float, room: bool, max_rows: int, max_seconds: float) -> bool:
    """Whether a batch is flushed now: once it holds `max_rows` records; before that, once `max_seconds` have
    passed since it began (monotonic times) and its flush would start at once (`room`: the batches before it
    are applied and few enough wait for their commit, flights.py).

    Without `room`, a batch begun while the one before it was applied was due as soon as that apply ended, with
    what the consumer had buffered, and then waited for room anyway: under a backlog one flush in six of
    `make bench` held a few hundred records, each with its own inserts and the facts of its tickets stated once
    more. Now it goes on gathering while it could not start. A quiet stream is unchanged: its flushes have room,
    and a record waits at most `max_seconds` for its flush as before."""
    if not batch.records:
        return False
    return batch.records >= max_rows or (room and now - batch.started >= max_seconds)


def merge_batches(batches: list[Batch]) -> Batch:
    """Applied batches, in order, as one commit: one insert per table, the newest offsets, and one state row per
    key (a ticket touched by several batches is written once, its last version)."""
    if len(batches) == 1:
        return batches[0]
    merged = Batch(started=batches[0].started)
    for batch in batches:
        merged.records += batch.records
        for table, rows in batch.tables.items():
            if table in merged.tables:
                merged.tables[table].extend(rows)
            else:
                merged.tables[table] = rows.copy()
        merged.dead_letters.extend(batch.dead_letters)
        merged.next_offsets.update(batch.next_offsets)
        for position, offset in batch.first_offsets.items():
            merged.first_offsets.setdefault(position, offset)
        merged.restate.extend(batch.restate)
        merged.hold = batch.hold  # the newest apply's: what still waits after all of them
        merged.consumed.update(batch.consumed)
        merged.duplicates.update(batch.duplicates)
        merged.already_stored += batch.already_stored
    for table, key in STATE_KEYS.items():
        if table in merged.tables:
            merged.tables[table].keep_last(key)
    return merged


@dataclass(slots=True)
class BatchBuilder:
    """Turns records into a Batch; owns the per-partition dedupe windows."""

    dedupe_capacity: int
    source_id: str  # the broker's cluster id: offsets are only comparable within one broker
    watermarks: Watermarks = field(default_factory=dict)
    seen: dict[tuple[str, int], SeenIds] = field(default_factory=dict)

    def seen_ids(self, topic: str, partition: int) -> SeenIds:
        ids = self.seen.get((topic, partition))
        if ids is None:
            ids = self.seen[(topic, partition)] = SeenIds(self.dedupe_capacity)
        return ids

    def forget(self, topic: str, partition: int) -> None:
        """Drop a revoked partition's memory; its next owner reloads it."""
        self.seen.pop((topic, partition), None)
        for key in [k for k in self.watermarks if k[1:] == (topic, partition)]:
            del self.watermarks[key]

    def add(self, batch: Batch, source: SourceRef, key: bytes | None, value: bytes | None) -> None:
        self.add_records(batch, source.topic, source.partition, (Record(source.offset, key, value),))

    def add_records(self, batch: Batch, topic: str, partition: int, records: Iterable[RecordLike]) -> None:
        """Records of one partition in offset order (what a fetch brings of it); what is the same for all of
        them (its dedupe window, its table and watermark) is looked up once, not per record."""
        seen = self.seen_ids(topic, partition)
        table = TABLE_OF_TOPIC[topic]
        stored_up_to = self.watermarks.get((table, topic, partition), -1)
        position = (topic, partition)
        next_offsets, consumed = batch.next_offsets, batch.consumed
        rows: ColumnBatch | None = None
        first = position not in batch.first_offsets
        for record in records:
            offset = record.offset
            if first:
                batch.first_offsets[position], first = offset, False
            source = SourceRef(topic, partition, offset)
            batch.records += 1
            next_offsets[position] = offset + 1
            try:
                outcome = decode(source, record.key, record.value)
                if isinstance(outcome, DeadLetter):
                    self._dead(batch, outcome)
                    continue
                event: Any = outcome
                if not seen.add(event.event_id):
                    batch.duplicates[topic] += 1
                    if offset <= stored_up_to:  # a redelivery: the restored window knows it
                        _restate(batch, event, partition)
                    continue
                kind = event.type
                consumed[(topic, kind)] += 1
                if kind in TICKET_TYPES:
                    batch.ticket_events.append((event, source))
                elif kind == "message.created":
                    batch.message_events.append((event, source))
                elif kind == "config.updated":
                    batch.config_events.append(event)
                elif topic == "agent" and kind != "agent.gap_dismissed":
                    batch.agent_events.append((event, source))
                if offset <= stored_up_to:
                    batch.already_stored += 1
                    _restate(batch, event, partition)
                    continue
                if kind in LIVE_TYPES:
                    batch.live_events.append((event, partition))  # stored ones were reloaded with the partition
                if rows is None:
                    rows = batch._table(table)
                rows.append(ROW_OF_TYPE[kind](event, self.source_id, source))
            except Exception as exc:  # a bug must not stop the pipeline or lose the record
                self._dead(batch, DeadLetter(source, "internal",
                                             f"internal error: {type(exc).__name__}: {exc}"[:MAX_REASON],
                                             record.key, record.value))

    def refuse(self, batch: Batch, event: Event, source: SourceRef, reason_code: str, reason: str) -> None:
        """An event the state refused after decoding (a merge that would close a cycle): not stored, dead-lettered.

        Redelivered, it is refused again; the dead-letter watermark keeps it to one dead letter.
        """
        batch.consumed[(source.topic, event.type)] -= 1  # type: ignore[attr-defined]
        name = TABLE_OF_TOPIC[source.topic]
        if name in batch.tables:
            batch.tables[name].drop("event_id", event.event_id)
        if source.offset > self.watermarks.get((DEAD_LETTER_TABLE, source.topic, source.partition), -1):
            value = encode_event(event)
            key = (getattr(event, "conversation_id", None) or getattr(event, "ticket_id", "")).encode()  # as routed
            dead = DeadLetter(source, reason_code, reason[:MAX_REASON], key, value)
            batch.dead_letters.append(dead)
            batch._table(DEAD_LETTER_TABLE).append(dead_letter_row(dead, self.source_id))

    def _dead(self, batch: Batch, dead: DeadLetter) -> None:
        source = dead.source
        if source.offset > self.watermarks.get((DEAD_LETTER_TABLE, source.topic, source.partition), -1):
            batch.dead_letters.append(dead)
            batch._table(DEAD_LETTER_TABLE).append(dead_letter_row(dead, self.source_id))
        else:
            batch.already_stored += 1
