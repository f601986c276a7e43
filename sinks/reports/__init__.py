"""Reports: one `.sql` file per report in sinks/reports, run with named parameters."""

from __future__ import annotations

from datetime import date
from importlib import resources

FREQUENCIES = ("day", "week", "month", "quarter", "year")
FILTERS = ("account", "channel", "priority", "team", "pipeline", "category")
# The time zone of an account's latest configuration ('' if it has none).
ACCOUNT_TIMEZONE_SQL = (
    "SELECT JSONExtractString(argMax(config, occurred_at), 'timezone') FROM config_events "
    "WHERE account_id = {account:String}"
)


def available() -> list[str]:
    return sorted(e.name[:-4].replace("_", "-") for e in resources.files(__name__).iterdir()
                  if e.name.endswith(".sql"))


def report_sql(name: str) -> str:
    path = resources.files(__name__) / f"{name.replace('-', '_')}.sql"
    if not path.is_file():
        raise KeyError(f"unknown report {name!r}; available: {', '.join(available())}")
    return path.read_text()


def parameters(start: date, end: date, freq: str, tz: str, **filters: str | None) -> dict:
    if freq not in FREQUENCIES:
        raise ValueError(f"frequency must be one of {', '.join(FREQUENCIES)}")
    if end < start:
        raise ValueError("--to is before --from")
    unknown = set(filters) - set(FILTERS)
    if unknown:
        raise ValueError(f"unknown filters: {', '.join(sorted(unknown))}")
    return {"from": start, "to": end, "freq": freq, "tz": tz, **{f: filters.get(f) or "" for f in FILTERS}}
