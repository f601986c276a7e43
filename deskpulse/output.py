"""Printing query results as an aligned table, CSV or JSON.

The table is for people: durations in human units, periods as people name
them (2026-Q4, 2026-W47, 2026-11), the group labelled. CSV and JSON are for
tools and keep the raw values: seconds, the period's first date, '' for no
group (docs/reports-usage.md says so).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from datetime import date
from typing import Any

from sinks.clickhouse import jsonable


def _text(value: Any) -> str:
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def render(columns: Sequence[str], rows: Sequence[Sequence[Any]], fmt: str) -> str:
    if fmt == "json":
        return json.dumps([dict(zip(columns, (jsonable(v) for v in row), strict=True)) for row in rows], indent=2)
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([[_text(v) for v in row] for row in rows])
        return buffer.getvalue().rstrip("\n")
    cells = [list(columns)] + [[_text(v) for v in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(columns))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(lines)


def human_duration(seconds: float | None) -> str:
    """42s, 4m 05s, 13h 40m, 2d 03h: two units at most, like a help desk's own screens."""
    if seconds is None or seconds != seconds:  # NULL or nan: no data
        return ""
    sign, total = ("-" if seconds < 0 else ""), round(abs(seconds))
    days, rest = divmod(total, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, secs = divmod(rest, 60)
    if days:
        text = f"{days}d {hours:02d}h"
    elif hours:
        text = f"{hours}h {minutes:02d}m"
    elif minutes:
        text = f"{minutes}m {secs:02d}s"
    else:
        text = f"{secs}s"
    return sign + text


def period_label(start: date, freq: str, through: date | None = None) -> str:
    if freq == "total":  # --view totals: the whole range
        return f"{start.isoformat()} – {through.isoformat()}" if through else f"from {start.isoformat()}"
    if freq == "week":
        year, week, _ = start.isocalendar()
        return f"{year}-W{week:02d}"
    if freq == "month":
        return f"{start:%Y-%m}"
    if freq == "quarter":
        return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    if freq == "year":
        return str(start.year)
    return start.isoformat()


GROUP_LABELS = {"none": "(all)", "rep": "(unassigned)", "team": "(no team)"}


def for_people(columns: Sequence[str], rows: Sequence[Sequence[Any]], *, freq: str, by: str,
               through: date | None = None) -> tuple[list[str], list[list[Any]]]:
    """A report's result as the table shows it (see the module docstring)."""
    shown = [c[:-2] if c.endswith("_s") else c for c in columns]
    out = []
    for row in rows:
        cells = []
        for column, value in zip(columns, row, strict=True):
            if column.endswith("_s"):
                value = human_duration(value)
            elif column == "period" and value:
                # a date here; through a running worker's /sql, its ISO text
                value = period_label(value if isinstance(value, date) else date.fromisoformat(str(value)[:10]), freq,
                                     through)
            elif column == "group" and value == "":
                value = GROUP_LABELS.get(by, "")
            elif column == "owner_id" and value == "":
                value = "(unassigned)"
            cells.append(value)
        out.append(cells)
    return shown, out
