"""A report request (`deskpulse report NAME`, `/api/accounts/{a}/reports/{name}`): its options checked against
the report and the data, turned into the report's SQL and named parameters.

Every mistake is one line that says what is known: an unknown account or a
filter value no ticket has lists the known ones (it used to print `(0 rows)`
and exit 0); an option the report does not take is an error, not ignored.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from pydantic import TypeAdapter, ValidationError

from schemas.config import AccountConfig, TimeZone
from sinks.reports import (
    ACCOUNT_CONFIG_SQL,
    FILTERS,
    KNOWN_VALUES_SQL,
    Report,
    catalogue,
    hours_columns,
    parameters,
    report_sql,
    rows_sql,
)
from streams.core.business_time import WorkCalendar
from streams.core.calendars import named_calendar

Query = Callable[[str, dict | None], tuple[list[str], list[list]]]
RANGE_OPTIONS = ("from", "to", "freq", "channel", "priority", "team", "pipeline", "category", "rep")
_ZONE = TypeAdapter(TimeZone)
DEFAULT_CLOSED = ["closed"]


class ReportError(Exception):
    """One line for the user."""


class UnknownReport(ReportError):
    """No report of that name (the HTTP API answers 404)."""


def _options_it_takes(report: Report) -> set[str]:
    if report.parameters:
        return set(report.parameters) - {"closed"}
    takes = {*(o for o in RANGE_OPTIONS if o not in FILTERS or o in report.filters), "account", "tz", "rows",
             *(("by", "groups") if report.groups else ()),
             *(("only",) if report.drill else ()),
             *(("hours",) if report.has_hours else ())}
    return takes | {"view"} if report.periods else takes - {"freq"}


def check_options(report: Report, given: set[str]) -> None:
    """`given`: the options the user set (not defaults)."""
    extra = sorted(given - _options_it_takes(report))
    if extra:
        takes = ", ".join(f"--{o}" for o in sorted(_options_it_takes(report)))
        raise ReportError(f"{report.name} does not take {', '.join('--' + o for o in extra)} (it takes {takes})")


def zone(tz: str) -> str:
    try:
        return _ZONE.validate_python(tz)
    except ValidationError:
        raise ReportError(f"unknown time zone {tz[:80]!r}: use an IANA name such as Europe/Stockholm or UTC") \
            from None


def check_values(query: Query, account: str | None, filters: dict[str, str | None]) -> None:
    """An account or filter value that matches nothing is a mistake: say so and list the known ones."""
    if not account and not any(filters.values()):
        return  # nothing to check: no query
    columns, rows = query(KNOWN_VALUES_SQL, {"account": account or ""})
    known = dict(zip(columns, rows[0], strict=True)) if rows else {}
    if account and account not in known.get("account", []):
        raise ReportError(f"unknown account {account!r}; known: {_listed(known.get('account', []))}")
    for name, value in filters.items():
        if value and value not in known.get(name, []):
            whose = f"of {account} " if account else ""
            raise ReportError(f"no ticket {whose}has {name} {value!r}; known: {_listed(known.get(name, []))}")


def _listed(values: list) -> str:
    shown = [v if v else "(empty)" for v in values[:30]]
    return ", ".join(shown) + (f" and {len(values) - 30} more" if len(values) > 30 else "") if values else "none"


def account_config(query: Query, account: str) -> AccountConfig | None:
    """The account's newest configuration (None without one)."""
    _, rows = query(ACCOUNT_CONFIG_SQL, {"account": account})
    raw = rows[0][0] if rows and rows[0][0] else ""
    return AccountConfig.model_validate(json.loads(raw)) if raw else None


def account_zone(config: AccountConfig | None) -> tuple[str, list[str]]:
    """The account's time zone (UTC without a configuration) and its closed stages."""
    if config is None:
        return "UTC", DEFAULT_CLOSED
    closed = sorted({stage for stages in config.closed_stages().values() for stage in stages})
    return config.timezone, closed or DEFAULT_CLOSED


def _working_intervals(config: AccountConfig | None, names: set[str], lo: datetime, hi: datetime) -> dict:
    """Each named calendar's working intervals in [lo, hi) as epoch milliseconds ('' : 24/7), computed by the
    worker's own business-time core, so they match the SLA arithmetic exactly. Parallel arrays, not tuples:
    they survive JSON on the way through a running worker's /sql."""
    working = []
    for name in sorted(names):
        calendar = named_calendar(config, name or None) if config else WorkCalendar.twenty_four_seven()
        working += [(name, int(a.timestamp() * 1000), int(b.timestamp() * 1000)) for a, b in calendar.intervals(lo, hi)]
    return {"working_calendars": [w[0] for w in working], "working_starts": [w[1] for w in working],
            "working_ends": [w[2] for w in working]}


def _local_range(start: date, end: date, tz: str) -> tuple[datetime, datetime]:
    zone = ZoneInfo(tz)
    return (datetime.combine(start, datetime.min.time(), zone),
            datetime.combine(end + timedelta(days=1), datetime.min.time(), zone))


def working_hours(config: AccountConfig | None, start: date, end: date, tz: str) -> dict:
    """The parameters of a report on reps' working hours: which calendar each rep and team has ('' : 24/7),
    and each calendar's working intervals over the range [start, end] (local dates)."""
    reps = {rep: a.calendar for rep, a in config.reps.items()} if config else {}
    teams = {team: config.calendar_name_for(team) or "" for team in config.teams} if config else {}
    default = (config.calendar_name_for(None) or "") if config else ""
    return {"rep_keys": list(reps), "rep_calendars": list(reps.values()), "team_keys": list(teams),
            "team_calendars": list(teams.values()), "default_calendar": default,
            **_working_intervals(config, {default, *reps.values(), *teams.values()}, *_local_range(start, end, tz))}


def sla_hours(config: AccountConfig | None, start: date, tz: str) -> dict:
    """The parameters of a report that measures durations in SLA hours from events in a range: each team's
    SLA calendar ('' : 24/7, also when the policy runs 24/7), and their working intervals from the range's
    first day to tomorrow (a duration that starts in the range may end any time until now)."""
    teams = {team: config.sla_calendar_name_for(team) or "" for team in config.teams} if config else {}
    default = (config.sla_calendar_name_for(None) or "") if config else ""
    tomorrow = datetime.now(ZoneInfo(tz)).date() + timedelta(days=1)
    return {"team_keys": list(teams), "team_calendars": list(teams.values()), "default_calendar": default,
            **_working_intervals(config, {default, *teams.values()}, *_local_range(start, tomorrow, tz))}


def build(name: str, query: Query, given: set[str], *, start: date | None, end: date | None, freq: str,
          account: str | None, tz: str | None, by: str, day: date | None,
          filters: dict[str, str | None], view: str = "over-time", rows: bool = False,
          only: dict[str, str] | None = None, groups: list[str] | None = None) -> tuple[str, dict]:
    """The report's SQL and its parameters, every option checked first. With `rows`, the SQL of the rows
    behind the report instead, narrowed to those behind one of its rows by `only` (drill column -> value)."""
    report = catalogue().get(name)
    if report is None:
        raise UnknownReport(f"unknown report {name!r}; `deskpulse report` lists them all")
    check_options(report, given)
    if tz is not None:
        tz = zone(tz)
    if report.parameters and "account" in report.parameters and not account:
        raise ReportError(f"{name} needs --account")
    if start and end and end < start:  # before anything is read: a mistake in the command itself
        raise ReportError("--to is before --from")
    if report.working_hours and not account:
        raise ReportError(f"{name} needs --account (working hours are the account's)")
    if report.sla_hours and not account:
        raise ReportError(f"{name} needs --account (SLA hours are the account's)")
    check_values(query, account, filters)
    closed, config = DEFAULT_CLOSED, None
    if account:
        config = account_config(query, account)
        account_tz, closed = account_zone(config)
        tz = tz or account_tz
    tz = tz or "UTC"
    if report.parameters:
        today = datetime.now(ZoneInfo(tz)).date()
        default_day = today if report.day_default == "today" else today - timedelta(days=1)
        return report_sql(name), {"account": account, "day": day or default_day, "tz": tz, "closed": closed}
    end_date = end or datetime.now(ZoneInfo(tz)).date()
    start_date = start or end_date - timedelta(days=30)
    only = only or {}
    if groups and by == "none":
        raise ReportError("--groups chooses reps or teams: add --by rep or --by team")
    if len(groups or ()) > 200:
        raise ReportError("--groups takes at most 200 reps or teams")
    if only and not rows:
        raise ReportError("--only narrows --rows: add --rows")
    try:
        params = parameters(start_date, end_date, freq, tz, view, account=account, **filters)
        sql = rows_sql(name, tuple(only)) if rows else report_sql(name)
    except ValueError as exc:
        raise ReportError(str(exc)) from None
    params["by"] = by
    params["groups"] = list(groups or [])
    params.update({f"only_{column}": value for column, value in only.items()})
    if report.working_hours:
        params.update(working_hours(config, start_date, end_date, tz))
    if report.sla_hours:
        params.update(sla_hours(config, start_date, tz))
    return sql, params


def shown(columns: list[str], rows: list[list], hours: str | None) -> tuple[list[str], list[list]]:
    """The result with only the durations --hours asks for (both when None)."""
    try:
        keep = hours_columns(columns, hours)
    except ValueError as exc:
        raise ReportError(str(exc)) from None
    return [columns[i] for i in keep], [[row[i] for i in keep] for row in rows]


__all__ = ["FILTERS", "ReportError", "UnknownReport", "build", "shown"]
