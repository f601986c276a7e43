"""The one boundary to ClickHouse: embedded (chDB) or server, same API.

`chdb:///dir` opens chDB in-process (one process per directory: chDB locks
it), `http(s)://user:pass@host:port/db` a server. Everything else in
deskpulse talks to ClickHouse through `Warehouse`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import clickhouse_connect
import orjson
from clickhouse_connect.driver.client import Client


class WarehouseError(RuntimeError):
    """A ClickHouse problem worth one clear line to the user."""


def connect(dsn: str, settings: Mapping[str, Any] | None = None) -> Client:
    parsed = urlparse(dsn)
    if parsed.scheme == "chdb":
        Path(parsed.path).mkdir(parents=True, exist_ok=True)
    elif parsed.scheme not in ("http", "https"):
        raise WarehouseError(f"unsupported ClickHouse DSN {dsn!r}: use chdb:///dir or http://user:pass@host:8123/db")
    try:
        return clickhouse_connect.get_client(dsn=dsn, settings=dict(settings or {}))
    except Exception as exc:  # the driver raises many types; the user needs one line
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if "EmbeddedServer" in first or "chdb engine" in first:
            first = f"the embedded ClickHouse at {parsed.path} is in use by another process ({first})"
        raise WarehouseError(first) from exc


# Inserts are sent as JSON rows (JSONCompactEachRow), encoded by orjson in C and parsed by ClickHouse, which does not
# hold the interpreter lock. The driver's Native encoding is Python: 55 us of the lock per facts row against 5 (about
# 140 ms of every 20,000 records in `make bench`; docs/performance.md, "Throughput"). The rows are one JSON array
# with its brackets cut off: ClickHouse's reader of the format skips a comma between rows
# (JSONCompactEachRowFormatReader::skipRowBetweenDelimiter), and one orjson call is 3x cheaper than one per row.
# Naive times are UTC (the Native driver read them in the process's zone); times are ISO-8601 with their offset,
# which best_effort parses; a None in a column that stores no NULL becomes the column's default ('' for text).
INSERT_SETTINGS = {"date_time_input_format": "best_effort", "input_format_null_as_default": 1}
_ORJSON_OPTIONS = orjson.OPT_NAIVE_UTC
RECENT_ID_SPANS_DAYS = (1, 30, None)  # recent_event_ids widens its read in these steps (None: everything)


def watermarks_sql(table: str) -> str:
    """Highest stored offset per partition: the shape the `stored_offsets` projection (migration 0014) serves,
    so that it reads a few rows per part instead of every row's offset."""
    return (f"SELECT _partition, max(_offset) FROM {table} "  # table names come from code, never from input
            "WHERE _source = {source:String} AND _topic = {topic:String} "
            "AND _partition IN {partitions:Array(UInt32)} GROUP BY _partition")


class Warehouse:
    def __init__(self, client: Client) -> None:
        self.client = client

    @classmethod
    def open(cls, dsn: str, settings: Mapping[str, Any] | None = None) -> Warehouse:
        """A client with its own session; `settings` apply to every query of it."""
        return cls(connect(dsn, settings))

    def close(self) -> None:
        self.client.close()

    def command(self, sql: str, parameters: Mapping[str, Any] | None = None) -> Any:
        return self.client.command(sql, parameters=parameters)

    def query(self, sql: str, parameters: Mapping[str, Any] | None = None):
        return self.client.query(sql, parameters=parameters)

    def stream(self, sql: str, parameters: Mapping[str, Any] | None = None):
        """Rows block by block (a context manager yielding lists of row tuples), for results too big to hold."""
        return self.client.query_row_block_stream(sql, parameters=parameters)

    def insert_rows(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        """Rows of values in the order of `columns`. A value JSON cannot carry raises TypeError (orjson's)."""
        if not rows:
            return
        if len(rows[0]) != len(columns):
            raise ValueError(f"rows of {len(rows[0])} values for {len(columns)} columns of {table}")
        body = orjson.dumps(rows, option=_ORJSON_OPTIONS)[1:-1]
        self.client.raw_insert(table, list(columns), body, settings=INSERT_SETTINGS, fmt="JSONCompactEachRow")

    def insert_columns(self, table: str, columns: Sequence[str], data: Sequence[Sequence[Any]]) -> None:
        """One list of values per column."""
        if len(columns) != len(data):
            raise ValueError(f"{len(data)} value lists for {len(columns)} columns of {table}")
        self.insert_rows(table, columns, list(zip(*data, strict=True)))

    def watermarks(self, table: str, source: str, topic: str, partitions: Iterable[int]) -> dict[int, int]:
        """Highest stored source offset per partition of `topic` (on broker `source`) in `table`."""
        result = self.query(watermarks_sql(table), {"source": source, "topic": topic, "partitions": list(partitions)})
        return {int(p): int(o) for p, o in result.result_rows}

    def holes(self, table: str, source: str, topic: str, partitions: Iterable[int], limit: int = 10_000,
              ) -> dict[int, list[tuple[int, int]]]:
        """Offset ranges [start, end) below the highest stored one that `table` does not hold, per partition.

        With a ClickHouse per worker, a partition that comes back to a worker after another sank part of it
        has such holes; so do dead-lettered and duplicate records, which reading them again does no harm.
        """
        result = self.query(
            "SELECT _partition, prev + 1, _offset FROM ("
            "  SELECT _partition, _offset, lagInFrame(toInt64(_offset), 1, -1) OVER ("
            "    PARTITION BY _partition ORDER BY _offset ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) AS prev"
            f"  FROM {table} "  # table names come from code, never from input
            "  WHERE _source = {source:String} AND _topic = {topic:String} "
            "  AND _partition IN {partitions:Array(UInt32)}"
            ") WHERE _offset > prev + 1 ORDER BY _partition, prev LIMIT {limit:UInt32}",
            {"source": source, "topic": topic, "partitions": list(partitions), "limit": limit},
        )
        holes: dict[int, list[tuple[int, int]]] = {}
        for partition, start, end in result.result_rows:
            holes.setdefault(int(partition), []).append((int(start), int(end)))
        return holes

    def recent_event_ids(self, table: str, topic: str, partition: int, limit: int) -> list[str]:
        """The newest `limit` event ids stored from one partition by ingestion, newest first (any broker).

        Read within the last day, then 30 days, then all, until a span holds `limit` ids: its newest are then
        the newest of all. The tables are ordered by account and time, so an unbounded read went through a
        whole table for each partition; a bound skips what was ingested before it (`ingested_idx`).
        """
        rows: list = []
        for days in RECENT_ID_SPANS_DAYS:
            bound = "" if days is None else " AND _ingested_at >= now64(3) - toIntervalDay({days:UInt32})"
            rows = self.query(
                f"SELECT event_id FROM {table} WHERE _topic = {{topic:String}} AND _partition = {{partition:UInt32}}"
                f"{bound} ORDER BY _ingested_at DESC, _offset DESC LIMIT {{limit:UInt64}}",
                {"topic": topic, "partition": partition, "limit": limit, "days": days or 0},
            ).result_rows
            if len(rows) >= limit:
                break
        return [row[0] for row in rows]

    def table_counts(self) -> dict[str, int]:
        result = self.query(
            "SELECT name, total_rows FROM system.tables WHERE database = currentDatabase() "
            "AND engine LIKE '%MergeTree' ORDER BY name"
        )
        return {name: int(rows or 0) for name, rows in result.result_rows}


def stored_rows(limits: str = "limits") -> str:
    """SQL condition: the stored rows of some partitions that the consumer will not be given again.

    That is every row another broker delivered (an embedded broker is new and empty after a restart, a
    replaced cluster has a new id: what its predecessors delivered is history), plus this broker's rows
    up to each partition's stored watermark. Parameters: `source` (String), `parts` (Array(UInt32)) and
    `limits` (Array(Int64), the watermark of each of `parts`, in the same order).
    """
    return ("_partition IN {parts:Array(UInt32)} AND (_source != {source:String} OR "
            f"_offset <= arrayElement({{{limits}:Array(Int64)}}, indexOf({{parts:Array(UInt32)}}, _partition)))")


def as_utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def jsonable(value: Any) -> Any:
    """A value ClickHouse returned, as JSON can carry it (times as ISO-8601)."""
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    return str(value)
