"""Events -> rows for the raw tables (pure).

A batch keeps its rows per table. The worker inserts them as they are
(JSON rows, sinks/clickhouse.py `insert_rows`); `data` turns them into one
list per column for callers that insert columns.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from schemas.events import EVENT_MODELS, TICKET_FIELDS, Event
from schemas.topics import TOPIC_OF_TYPE
from streams.core.decode import DeadLetter, SourceRef

SOURCE_COLUMNS = ("_source", "_topic", "_partition", "_offset")


# Raw table -> its columns, in insert order (besides SOURCE_COLUMNS). A column
# is read from the event field of the same name; COMPUTED ones are derived.
RAW_COLUMNS: dict[str, tuple[str, ...]] = {
    "ticket_events": ("account_id", "event_id", "type", "occurred_at", "ticket_id", "changed", "status", "pipeline",
                      "owner_id", "team_id", "priority", "category", "subject", "channel", "contact_id",
                      "merged_ticket_id", "schema_version"),
    "message_events": ("account_id", "event_id", "occurred_at", "ticket_id", "message_id", "direction",
                       "sender_type", "sender_id", "channel", "schema_version"),
    "feedback_events": ("account_id", "event_id", "occurred_at", "ticket_id", "survey", "score", "scale",
                        "contact_id", "schema_version"),
    "availability_events": ("account_id", "event_id", "occurred_at", "rep_id", "team_id", "status",
                            "schema_version"),
    "call_events": ("account_id", "event_id", "occurred_at", "call_id", "rep_id", "team_id", "ticket_id", "outcome",
                    "started_at", "duration_s", "schema_version"),
    "agent_events": ("account_id", "event_id", "type", "occurred_at", "conversation_id", "channel", "contact_id",
                     "question", "ticket_id", "to_rep_id", "to_team_id", "helpful", "topic_id", "question_id",
                     "schema_version"),
    "config_events": ("account_id", "event_id", "occurred_at", "config", "schema_version"),
}
# Columns that store NULL; in every other column a missing or None value is
# written as the column's empty value ('' for strings).
NULLABLE = frozenset({"helpful", "created_at", "closed_at"})


def _changed(e: Any) -> list[str]:
    if e.type == "ticket.updated":
        return list(e.changed_fields)
    if e.type == "ticket.created":
        return [f for f in TICKET_FIELDS if getattr(e, f) is not None]
    return []


COMPUTED: dict[str, Callable[[Any], Any]] = {
    "changed": _changed,
    "config": lambda e: json.dumps(e.config, sort_keys=True),
}


def _compile_row(columns: Sequence[str], model: type[Event]) -> Callable[[Event, str, SourceRef], tuple]:
    """A row function for one event type: one tuple expression of the event's attributes.

    Generated from the column lists above (code, never input): it is the hot
    path, and reading attributes one by one with defaults costs ~4x more.
    Attributes, not the model's __dict__: an event may be a msgspec twin
    (streams/core/event_twins.py), which has none.
    """
    parts = []
    for column in columns:
        if column in COMPUTED:
            parts.append(f"computed[{column!r}](e)")
        elif column in model.model_fields:
            parts.append(f"e.{column}")
        else:  # not a field of this event type
            parts.append("None")
    body = ", ".join(parts)
    namespace: dict[str, Any] = {"computed": COMPUTED}
    exec(f"def row(e, source_id, src):\n"  # noqa: S102
         f"    return ({body}, source_id, src[0], src[1], src[2])", namespace)
    return namespace["row"]


TABLE_OF_TOPIC: dict[str, str] = {
    "tickets": "ticket_events",
    "messages": "message_events",
    "feedback": "feedback_events",
    "availability": "availability_events",
    "calls": "call_events",
    "agent": "agent_events",
    "config": "config_events",
}
DEAD_LETTER_TABLE = "dead_letters"
# State tables (one row per key, the highest version wins) -> their key; written before the raw tables.
STATE_KEYS = {"tickets": ("account_id", "ticket_id"), "ticket_facts": ("account_id", "ticket_id"),
              "agent_conversation_facts": ("account_id", "conversation_id")}
DEAD_LETTER_COLUMNS = ("received_at", "reason_code", "reason", "key", "raw")
assert set(TABLE_OF_TOPIC.values()) == set(RAW_COLUMNS)
assert set(TABLE_OF_TOPIC) == {spec.name for spec in set(TOPIC_OF_TYPE.values())}
ROW_OF_TYPE: dict[str, Callable[[Event, str, SourceRef], tuple]] = {
    kind: _compile_row(RAW_COLUMNS[TABLE_OF_TOPIC[TOPIC_OF_TYPE[kind].name]], model)
    for kind, model in EVENT_MODELS.items()
}


@dataclass(slots=True)
class ColumnBatch:
    """Rows for one table, in the order of its columns."""

    columns: Sequence[str]
    nullable: frozenset[str] = field(default=frozenset())  # columns that store NULL (besides NULLABLE)
    _rows: list[tuple] = field(default_factory=list)

    def append(self, row: tuple) -> None:
        self._rows.append(row)

    def drop(self, column: str, value: object) -> None:
        """Leave out the rows whose `column` equals `value` (an event refused after it was sorted in)."""
        i = self.columns.index(column)
        self._rows = [r for r in self._rows if r[i] != value]

    def copy(self) -> ColumnBatch:
        return ColumnBatch(self.columns, self.nullable, list(self._rows))

    def extend(self, other: ColumnBatch) -> None:
        if tuple(other.columns) != tuple(self.columns):
            raise ValueError("column batches of different tables")
        self._rows.extend(other._rows)

    def keep_last(self, key_columns: Sequence[str]) -> None:
        """One row per key, the last appended (a newer version of a state row makes the older one moot)."""
        at = [self.columns.index(c) for c in key_columns]
        last = {tuple(r[i] for i in at): r for r in self._rows}
        if len(last) < len(self._rows):
            self._rows = list(last.values())

    def split(self) -> tuple[ColumnBatch, ColumnBatch]:
        """Two halves (to isolate a row ClickHouse refuses)."""
        half = len(self._rows) // 2
        return (ColumnBatch(self.columns, self.nullable, self._rows[:half]),
                ColumnBatch(self.columns, self.nullable, self._rows[half:]))

    def only_row(self) -> tuple:
        [row] = self._rows
        return row

    @property
    def rows(self) -> int:
        return len(self._rows)

    @property
    def row_values(self) -> list[tuple]:
        """The rows as appended (read only; `Warehouse.insert_rows` checks their width)."""
        return self._rows

    @property
    def data(self) -> list[Sequence]:
        """Column-oriented (the transpose is done in C by zip), None made '' where NULL is not stored."""
        if not self._rows:
            return [() for _ in self.columns]
        if len(self._rows[0]) != len(self.columns):
            raise ValueError(f"rows have {len(self._rows[0])} values for {len(self.columns)} columns")
        columns: list[Sequence] = list(zip(*self._rows, strict=True))
        for i, name in enumerate(self.columns):
            if name not in NULLABLE and name not in self.nullable and None in columns[i]:
                columns[i] = ["" if v is None else v for v in columns[i]]
        return columns


def event_row(event: Event, source: SourceRef, source_id: str) -> tuple[str, tuple]:
    return TABLE_OF_TOPIC[source.topic], ROW_OF_TYPE[event.type](event, source_id, source)  # type: ignore[attr-defined]


def table_columns(table: str) -> tuple[str, ...]:
    if table == DEAD_LETTER_TABLE:
        return (*DEAD_LETTER_COLUMNS, *SOURCE_COLUMNS)
    return (*RAW_COLUMNS[table], *SOURCE_COLUMNS)


def dead_letter_row(dead: DeadLetter, source_id: str, received_at: datetime | None = None) -> tuple:
    raw = (dead.value or b"").decode("utf-8", errors="backslashreplace")
    key = (dead.key or b"").decode("utf-8", errors="backslashreplace")
    return (received_at or datetime.now(UTC), dead.reason_code, dead.reason, key, raw,
            source_id, dead.source.topic, dead.source.partition, dead.source.offset)
