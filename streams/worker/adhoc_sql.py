"""Ad-hoc read-only SQL for local tools and operators (`/sql`, `deskpulse sql` while a worker holds chDB).

Kept apart from ingestion (issue 10, finding 1): its own ClickHouse client,
hence its own session (a `SET` or a readonly query can never change the
session the worker inserts through), its own thread (a slow query never
delays a commit), and server-side limits on time, memory and result size.
"""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sinks.clickhouse import Warehouse, jsonable
from sinks.errors import one_line
from sinks.reports.request import ReportError, UnknownReport, build, shown

MAX_QUERY_CHARS = 100_000
# Applied to the session when it opens; readonly last, since it forbids changing settings after it.
LIMITS = {
    "max_execution_time": 10,  # seconds
    "max_memory_usage": 1_000_000_000,  # bytes
    "max_result_rows": 100_000,
    "result_overflow_mode": "throw",
    "readonly": 1,  # SELECT only; settings cannot be changed either
}


class AdhocSqlError(ValueError):
    """The query was refused or failed: one line for the caller."""


__all__ = ["LIMITS", "AdhocSql", "AdhocSqlError", "ReportError", "UnknownReport"]


class AdhocSql:
    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self._warehouse: Warehouse | None = None
        self._open = threading.Lock()
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="adhoc-sql")

    def _run(self, query: str, parameters: dict | None) -> dict[str, Any]:
        with self._open:
            if self._warehouse is None:
                self._warehouse = Warehouse.open(self.dsn, settings=LIMITS)
        try:
            result = self._warehouse.query(query, parameters or None)
            # rows are read inside: a limit can also trip while the result streams
            return {"columns": list(result.column_names),
                    "rows": [[jsonable(v) for v in row] for row in result.result_rows]}
        except Exception as exc:  # the driver raises many types; the caller needs one line
            # A failed stream can leave rows behind in the session: the next query gets a fresh one.
            with self._open:
                broken, self._warehouse = self._warehouse, None
            if broken is not None:
                broken.close()
            raise AdhocSqlError(one_line(exc)) from None

    async def run(self, query: object, parameters: object) -> dict[str, Any]:
        if not isinstance(query, str) or not query.strip():
            raise AdhocSqlError("the body must be JSON with a non-empty string 'query'")
        if len(query) > MAX_QUERY_CHARS:
            raise AdhocSqlError(f"the query is longer than {MAX_QUERY_CHARS} characters")
        if parameters is not None and not isinstance(parameters, dict):
            raise AdhocSqlError("'parameters' must be an object")
        return await asyncio.get_running_loop().run_in_executor(self._thread, self._run, query, parameters)

    def _report(self, name: str, given: set[str], options: dict) -> dict[str, Any]:
        def query(sql: str, parameters: dict | None) -> tuple[list[str], list[list]]:
            result = self._run(sql, parameters)
            return result["columns"], result["rows"]

        options = dict(options)
        hours = options.pop("hours", None)
        sql, parameters = build(name, query, given, **options)
        result = self._run(sql, parameters)
        columns, rows = shown(result["columns"], result["rows"], hours)
        return {"columns": columns, "rows": rows}

    async def report(self, name: str, given: set[str], options: dict) -> dict[str, Any]:
        """A catalogue report, checked like `deskpulse report` and run in this session (same limits, same
        thread, never the ingest connection). Raises ReportError or AdhocSqlError with one line."""
        return await asyncio.get_running_loop().run_in_executor(self._thread, self._report, name, given, options)

    def close(self) -> None:
        self._thread.shutdown(wait=True)
        if self._warehouse is not None:
            self._warehouse.close()
