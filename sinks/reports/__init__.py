"""Reports: one `.sql` file per report in sinks/reports, run with named parameters, described in reports.yml."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources

import yaml

FREQUENCIES = ("day", "week", "month", "quarter", "year")
VIEWS = ("over-time", "totals")  # totals: the whole range is one period (freq 'total', see deskpulse_bucket)
HOURS = ("24/7", "sla")  # which durations to show; both when not chosen
FILTERS = ("account", "channel", "priority", "team", "pipeline", "category", "rep")
# The newest configuration document of an account (JSON; '' if it has none).
ACCOUNT_CONFIG_SQL = "SELECT argMax(config, occurred_at) FROM config_events WHERE account_id = {account:String}"
# What a filter can match: the accounts there are, and the property values of the chosen account's tickets
# (all accounts' when none is chosen).
KNOWN_VALUES_SQL = (
    "SELECT (SELECT arraySort(arrayDistinct(arrayConcat(groupUniqArray(account_id), "
    "(SELECT groupUniqArray(account_id) FROM config_events)))) FROM ticket_facts) AS account, "
    "arraySort(groupUniqArray(channel)) AS channel, arraySort(groupUniqArray(priority)) AS priority, "
    "arraySort(groupUniqArray(team_id)) AS team, arraySort(groupUniqArray(pipeline)) AS pipeline, "
    "arraySort(groupUniqArray(category)) AS category, "
    "arraySort(arrayDistinct(arrayConcat(groupUniqArray(owner_id), (SELECT groupUniqArray(rep_id) "
    "FROM availability_events WHERE {account:String} = '' OR account_id = {account:String})))) AS rep "
    "FROM ticket_facts WHERE {account:String} = '' OR account_id = {account:String}"
)


@dataclass(frozen=True, slots=True)
class Report:
    name: str
    definition: str
    properties: str  # "at_creation" | "now": which ticket properties filters and groups use
    groups: bool  # takes --by rep|team
    columns: dict[str, str]  # name -> description, in result order
    parameters: tuple[str, ...] = ()  # a report that is not "over a date range" names its own
    periods: bool = True  # takes --freq (False: one row per hour of day, say, over the whole range)
    drill: tuple[str, ...] = ()  # the report's columns that name the rows behind one of its rows (--only)
    chart: tuple[str, ...] = ()  # the columns the reports page draws (empty: its first measure)
    stacked: bool = False
    filters: tuple[str, ...] = FILTERS[1:]  # the filters it takes (rep reports: only team)
    rows_from: str = ""  # another report whose rows it sums (default: its own rows/NAME.sql)
    rep_column: str = "owner_id"  # what --rep matches: the ticket's owner (rep reports: the rep)
    working_hours: bool = False  # takes the reps' working intervals from the account's configuration
    sla_hours: bool = False  # takes each team's SLA calendar and its working intervals (durations it measures)
    day_default: str = "yesterday"  # a report of one day: the day it shows without --day (or "today")

    @property
    def measures(self) -> list[str]:
        """The result columns that are figures: not the account, a drill column or a label."""
        return [c for c in self.columns if c not in ("account_id", *self.drill)]

    def as_json(self) -> dict:
        """What the reports page needs to know about the report."""
        return {"name": self.name, "definition": self.definition, "properties": self.properties,
                "groups": self.groups, "periods": self.periods, "rows": self.has_rows, "drill": list(self.drill),
                "columns": self.columns, "hours": self.has_hours,
                "chart": list(self.chart) or self.measures[:1], "stacked": self.stacked,
                "filters": list(self.filters)}

    @property
    def has_hours(self) -> bool:
        """Whether it has durations in both kinds of time, so `--hours` can choose one."""
        return any(c.endswith("_sla_s") for c in self.columns)

    @property
    def has_rows(self) -> bool:
        """Whether `--rows` can list the rows behind it (every report over a date range can)."""
        return not self.parameters


@cache
def catalogue() -> dict[str, Report]:
    """Every report described in reports.yml (the one list: names are never taken from the file system)."""
    doc = yaml.safe_load((resources.files(__name__) / "reports.yml").read_text())
    return {name: Report(name, spec["definition"], spec["properties"], bool(spec["groups"]), dict(spec["columns"]),
                         tuple(spec.get("parameters", ())), bool(spec.get("periods", True)),
                         tuple(spec.get("drill", ())), tuple(spec.get("chart", {}).get("series", ())),
                         bool(spec.get("chart", {}).get("stacked", False)),
                         tuple(spec.get("filters", FILTERS[1:])), spec.get("rows_from", ""),
                         spec.get("rep_column", "owner_id"),
                         bool(spec.get("working_hours", False)), bool(spec.get("sla_hours", False)),
                         spec.get("day_default", "yesterday"))
            for name, spec in doc["reports"].items()}


@cache
def bi_views() -> dict[str, tuple[str, dict[str, str]]]:
    """The BI views described in reports.yml: name -> (grain, column -> description)."""
    doc = yaml.safe_load((resources.files(__name__) / "reports.yml").read_text())
    return {name: (spec["grain"], dict(spec["columns"])) for name, spec in doc["bi_views"].items()}


def available() -> list[str]:
    return sorted(catalogue())


def _file(name: str, folder: str = "") -> str:
    if name not in catalogue():  # a name is a key of the catalogue, never a path
        raise KeyError(f"unknown report {name!r}; available: {', '.join(available())}")
    if folder == "rows" and catalogue()[name].rows_from:
        name = catalogue()[name].rows_from
    path = resources.files(__name__)
    if folder:
        path = path / folder
    return (path / f"{name.replace('-', '_')}.sql").read_text()


def report_sql(name: str) -> str:
    """The report's SQL: its aggregate over its rows (rows/NAME.sql, as the CTE `report_rows`), so the
    numbers and the rows behind them (--rows) can never disagree."""
    if name not in catalogue() or not catalogue()[name].has_rows:
        return _file(name)  # (an unknown name raises there)
    return f"WITH report_rows AS (\n{_rows(name)})\n{_file(name)}"


def _rows(name: str) -> str:
    """The report's rows with the two filters every rows file leaves to this wrapper: --rep (the ticket's
    owner, or the rep of a rep report) and the chosen groups."""
    report = catalogue()[name]
    where = []
    if "rep" in report.filters:
        where.append(f"({{rep:String}} = '' OR `{report.rep_column}` = {{rep:String}})")
    if report.groups:
        where.append("(empty({groups:Array(String)}) OR has({groups:Array(String)}, group))")
    rows = _file(name, "rows")
    return f"SELECT * FROM (\n{rows})\nWHERE {' AND '.join(where)}\n" if where else rows


def rows_sql(name: str, only: tuple[str, ...] = ()) -> str:
    """The rows behind a report, those of one of its rows when `only` names drill columns: each compared
    with the named parameter only_<column> as text (column names come from reports.yml, never the user)."""
    report = catalogue()[name]
    if not report.has_rows:
        raise ValueError(f"{name} has no rows behind it (it is not over a date range)")
    unknown = [c for c in only if c not in report.drill]
    if unknown:
        takes = ", ".join(report.drill) or "none"
        raise ValueError(f"{name} rows cannot be narrowed by {unknown[0][:40]!r} (it takes: {takes})")
    where = " AND ".join(f"toString(`{c}`) = {{only_{c}:String}}" for c in only)
    return f"SELECT * FROM (\n{_rows(name)})\n{'WHERE ' + where if where else ''}\nORDER BY ALL"


def hours_columns(columns: list[str], hours: str | None) -> list[int]:
    """The indices of the columns to show for --hours: 24/7 hides the durations in SLA hours (`*_sla_s`),
    sla hides the wall-clock durations (every other `*_s`); None shows both."""
    if hours is None:
        return list(range(len(columns)))
    if hours not in HOURS:
        raise ValueError(f"hours must be {' or '.join(HOURS)}")
    sla = hours == "sla"
    return [i for i, c in enumerate(columns) if not c.endswith("_s") or c.endswith("_sla_s") == sla]


def parameters(start: date, end: date, freq: str, tz: str, view: str = "over-time", **filters: str | None) -> dict:
    if freq not in FREQUENCIES:
        raise ValueError(f"frequency must be one of {', '.join(FREQUENCIES)}")
    if view not in VIEWS:
        raise ValueError(f"view must be {' or '.join(VIEWS)}")
    if end < start:
        raise ValueError("--to is before --from")
    unknown = set(filters) - set(FILTERS)
    if unknown:
        raise ValueError(f"unknown filters: {', '.join(sorted(unknown))}")
    return {"from": start, "to": end, "freq": "total" if view == "totals" else freq, "tz": tz, "groups": [],
            **{f: filters.get(f) or "" for f in FILTERS}}


def markdown() -> str:
    """docs/reports.md: every report and column, from reports.yml (a test keeps the file equal to this)."""
    out = ["# Reports", "",
           "Generated from `sinks/reports/reports.yml` by `deskpulse report --catalogue`; do not edit by hand.",
           "Filters and groups use the ticket's properties `at_creation` (as its `ticket.created` set them) or "
           "`now` (its current properties), as each report says. Dates are local dates of the account's time "
           "zone, both ends inclusive. `--view totals` makes the range one period; `--hours 24/7` or `sla` shows "
           "the wall-clock (`_s`) or the working-time (`_sla_s`) durations only.", ""]
    for report in catalogue().values():
        out += [f"## `{report.name}`", "", report.definition, "",
                f"Properties: {report.properties}. Groups (`--by rep|team`): {'yes' if report.groups else 'no'}. "
                f"Filters: {', '.join(report.filters) if not report.parameters else 'none'}. "
                f"SQL: `sinks/reports/{report.name.replace('-', '_')}.sql`"
                + (f" over its rows, `sinks/reports/rows/{(report.rows_from or report.name).replace('-', '_')}.sql` "
                   f"(`--rows`; "
                   f"`--only` takes {', '.join(report.drill)})." if report.has_rows else "."), "",
                "| column | meaning |", "|---|---|"]
        out += [f"| `{name}` | {text} |" for name, text in report.columns.items()]
        out.append("")
    out += ["# BI views", "",
            "Stable views for BI tools (`sinks/migrations/0009_bi_views.sql`), read through the read-only user "
            "of `deploy/clickhouse/users.xml`. Properties are the ticket's current ones; times are UTC; "
            "`deskpulse_period(t, freq, tz)` buckets them by local period as the reports do.", ""]
    for view, (grain, columns) in bi_views().items():
        out += [f"## `{view}`", "", f"Grain: {grain}.", "", "| column | meaning |", "|---|---|"]
        out += [f"| `{name}` | {text} |" for name, text in columns.items()]
        out.append("")
    return "\n".join(out)
