"""Account configuration: the document carried by `config.updated` events.

Written as YAML by people (`deskpulse config apply FILE.yaml`), so every
field is validated with a message that names its path, and durations read
like "15m", "4h", "1h30m" or "2d" (plain numbers are minutes).
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from schemas.hours import parse_ranges

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DURATION = re.compile(r"^\s*(?:(\d+)\s*d)?\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*m)?\s*$")


def _minutes(value: object) -> object:
    """'1h30m' -> 90; numbers are minutes."""
    if isinstance(value, bool):
        raise ValueError("a duration is a number of minutes or text like 15m, 4h, 1h30m, 2d")
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, str):
        match = _DURATION.match(value)
        if match and any(match.groups()):
            d, h, m = (int(g) if g else 0 for g in match.groups())
            return d * 1440 + h * 60 + m
    raise ValueError(f"{value!r} is not a duration like 15m, 4h, 1h30m or 2d")


Minutes = Annotated[float, BeforeValidator(_minutes), Field(gt=0, le=366 * 1440)]


_ZONE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_+\-]*(/[A-Za-z0-9_+\-]+){0,2}$")


def _known_zone(value: object) -> str:
    """An IANA zone name; checked for shape and length before the lookup, which touches the file system
    (a 5,000-character name raised OSError there)."""
    if not isinstance(value, str) or len(value) > 64 or not _ZONE_NAME.match(value):
        raise ValueError(f"unknown time zone {str(value)[:80]!r}")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(f"unknown time zone {value!r}") from None
    return value


TimeZone = Annotated[str, BeforeValidator(_known_zone)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_ranges(ranges: list[str]) -> list[str]:
    parse_ranges(ranges)
    return ranges


DayRanges = Annotated[list[str], AfterValidator(_check_ranges)]


class Calendar(Strict):
    """Business hours: ranges per weekday ("09:00-17:00"; "22:00-06:00" runs past midnight)."""

    timezone: TimeZone | None = None  # default: the account's
    # Each day's ranges are checked on their own, so one bad weekday name does not hide another day's bad range.
    hours: dict[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"], DayRanges]
    holidays: list[date] = Field(default_factory=list)

    def weekly_minutes(self) -> tuple[tuple[tuple[int, int], ...], ...]:
        """Working ranges in minutes from local midnight, Monday first."""
        return tuple(parse_ranges(self.hours.get(day, [])) for day in WEEKDAYS)


class Stage(Strict):
    id: str = Field(min_length=1)
    label: str = ""
    closed: bool = False


class Pipeline(Strict):
    id: str = Field(min_length=1)
    stages: list[Stage] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_stages(self) -> Pipeline:
        ids = [s.id for s in self.stages]
        if len(ids) != len(set(ids)):
            raise ValueError(f"pipeline {self.id!r} lists a stage twice")
        if not any(s.closed for s in self.stages):
            raise ValueError(f"pipeline {self.id!r} has no closed stage")
        return self


DEFAULT_PIPELINE = Pipeline(
    id="support",
    stages=[
        Stage(id="new", label="New"),
        Stage(id="waiting_on_contact", label="Waiting on contact"),
        Stage(id="waiting_on_us", label="Waiting on us"),
        Stage(id="closed", label="Closed", closed=True),
    ],
)

SlaMetric = Literal["first_response", "next_response", "time_to_close"]
SLA_METRICS: tuple[str, ...] = ("first_response", "next_response", "time_to_close")


class SlaTarget(Strict):
    """Targets for one property value (or for all tickets). A missing metric has no target."""

    enabled: bool = True
    first_response: Minutes | None = None
    next_response: Minutes | None = None
    time_to_close: Minutes | None = None
    due_soon: Minutes | None = None  # warn this long before the due time

    @model_validator(mode="after")
    def _due_soon_fits(self) -> SlaTarget:
        targets = [t for t in (self.first_response, self.next_response, self.time_to_close) if t is not None]
        if self.enabled and not targets:
            raise ValueError("an enabled target needs at least one of first_response, next_response, time_to_close")
        if self.due_soon is not None and targets and self.due_soon >= min(targets):
            raise ValueError(f"due_soon ({self.due_soon:g} min) must be shorter than every target")
        return self


class SlaPolicy(Strict):
    hours: Literal["working", "24/7"] = "working"
    calendar: str | None = None  # used when hours is "working" and the ticket's team has no calendar
    by: Literal["priority", "team", "channel", "pipeline"] | None = None
    all: SlaTarget | None = None  # when `by` is not set
    targets: dict[str, SlaTarget] = Field(default_factory=dict)  # when `by` is set: property value -> target

    @model_validator(mode="after")
    def _shape(self) -> SlaPolicy:
        if self.by is None and self.all is None:
            raise ValueError("set `all` (targets for every ticket) or `by` with `targets`")
        if self.by is not None and (self.all is not None or not self.targets):
            raise ValueError(f"with `by: {self.by}` give `targets` per {self.by} value and no `all`")
        return self

    def target_for(self, properties: dict[str, str]) -> SlaTarget | None:
        target = self.all if self.by is None else self.targets.get(properties.get(self.by, ""))
        return target if target is not None and target.enabled else None


class Assignment(Strict):
    calendar: str


class AccountConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    account_id: str | None = None  # in files; the event carries it too
    timezone: TimeZone = "UTC"
    calendars: dict[str, Calendar] = Field(default_factory=dict)
    default_calendar: str | None = None
    teams: dict[str, Assignment] = Field(default_factory=dict)  # team -> its business hours
    reps: dict[str, Assignment] = Field(default_factory=dict)  # rep -> working hours
    pipelines: list[Pipeline] = Field(default_factory=lambda: [DEFAULT_PIPELINE])
    sla: SlaPolicy | None = None

    @model_validator(mode="after")
    def _references(self) -> AccountConfig:
        known = set(self.calendars)

        def check(where: str, name: str | None) -> None:
            if name is not None and name not in known:
                raise ValueError(f"{where}: unknown calendar {name!r} (defined: {', '.join(sorted(known)) or 'none'})")

        check("default_calendar", self.default_calendar)
        for team, assignment in self.teams.items():
            check(f"teams.{team}.calendar", assignment.calendar)
        for rep, assignment in self.reps.items():
            check(f"reps.{rep}.calendar", assignment.calendar)
        if self.sla is not None:
            check("sla.calendar", self.sla.calendar)
            if self.sla.hours == "working" and not (self.sla.calendar or self.default_calendar or self.teams):
                raise ValueError("sla.hours is 'working' but no calendar is set (sla.calendar or default_calendar)")
        ids = [p.id for p in self.pipelines]
        if len(ids) != len(set(ids)):
            raise ValueError("a pipeline id is listed twice")
        return self

    def closed_stages(self) -> dict[str, frozenset[str]]:
        return {p.id: frozenset(s.id for s in p.stages if s.closed) for p in self.pipelines}

    def calendar_name_for(self, team_id: str | None) -> str | None:
        """The calendar that applies to a ticket of this team: its team's, else the SLA policy's, else the
        account's default; None means 24/7."""
        name = None
        if team_id and team_id in self.teams:
            name = self.teams[team_id].calendar
        return name or (self.sla.calendar if self.sla else None) or self.default_calendar

    def sla_calendar_name_for(self, team_id: str | None) -> str | None:
        """The calendar SLA clocks of this team's tickets run on; None: 24/7 (also when the policy says so)."""
        if self.sla is None or self.sla.hours == "24/7":
            return None
        return self.calendar_name_for(team_id)


def explain_errors(exc) -> list[str]:
    """pydantic errors as 'path.to.field: message' lines."""
    lines = []
    for err in exc.errors(include_url=False):
        path = ".".join(str(p) for p in err["loc"]) or "(document)"
        lines.append(f"{path}: {err['msg'].removeprefix('Value error, ')}")
    return lines
