"""Reports: one `.sql` file per report in sinks/reports, run with named parameters, described in reports.yml."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources

import yaml

FREQUENCIES = ("day", "week", "month", "quarter", "year")
FILTERS = ("account", "channel", "priority", "team", "pipeline", "category")
# The newest configuration document of an account (JSON; '' if it has none).
ACCOUNT_CONFIG_SQL = "SELECT argMax(config, occurred_at) FROM config_events WHERE account_id = {account:String}"
# What a filter can match: the accounts there are, and the property values of the chosen account's tickets
# (all accounts' when none is chosen).
KNOWN_VALUES_SQL = (
    "SELECT (SELECT arraySort(arrayDistinct(arrayConcat(groupUniqArray(account_id), "
    "(SELECT groupUniqArray(account_id) FROM config_events)))) FROM ticket_facts) AS account, "
    "arraySort(groupUniqArray(channel)) AS channel, arraySort(groupUniqArray(priority)) AS priority, "
    "arraySort(groupUniqArray(team_id)) AS team, arraySort(groupUniqArray(pipeline)) AS pipeline, "
    "arraySort(groupUniqArray(category)) AS category "
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


@cache
def catalogue() -> dict[str, Report]:
    """Every report described in reports.yml (the one list: names are never taken from the file system)."""
    doc = yaml.safe_load((resources.files(__name__) / "reports.yml").read_text())
    return {name: Report(name, spec["definition"], spec["properties"], bool(spec["groups"]), dict(spec["columns"]),
                         tuple(spec.get("parameters", ())), bool(spec.get("periods", True)))
            for name, spec in doc["reports"].items()}


def available() -> list[str]:
    return sorted(catalogue())


def report_sql(name: str) -> str:
    if name not in catalogue():  # a name is a key of the catalogue, never a path
        raise KeyError(f"unknown report {name!r}; available: {', '.join(available())}")
    return (resources.files(__name__) / f"{name.replace('-', '_')}.sql").read_text()


def parameters(start: date, end: date, freq: str, tz: str, **filters: str | None) -> dict:
    if freq not in FREQUENCIES:
        raise ValueError(f"frequency must be one of {', '.join(FREQUENCIES)}")
    if end < start:
        raise ValueError("--to is before --from")
    unknown = set(filters) - set(FILTERS)
    if unknown:
        raise ValueError(f"unknown filters: {', '.join(sorted(unknown))}")
    return {"from": start, "to": end, "freq": freq, "tz": tz, **{f: filters.get(f) or "" for f in FILTERS}}


def markdown() -> str:
    """docs/reports.md: every report and column, from reports.yml (a test keeps the file equal to this)."""
    out = ["# Reports", "",
           "Generated from `sinks/reports/reports.yml` by `deskpulse report --catalogue`; do not edit by hand.",
           "Filters and groups use the ticket's properties `at_creation` (as its `ticket.created` set them) or "
           "`now` (its current properties), as each report says. Dates are local dates of the account's time "
           "zone, both ends inclusive.", ""]
    for report in catalogue().values():
        out += [f"## `{report.name}`", "", report.definition, "",
                f"Properties: {report.properties}. Groups (`--by rep|team`): {'yes' if report.groups else 'no'}. "
                f"SQL: `sinks/reports/{report.name.replace('-', '_')}.sql`.", "",
                "| column | meaning |", "|---|---|"]
        out += [f"| `{name}` | {text} |" for name, text in report.columns.items()]
        out.append("")
    return "\n".join(out)
