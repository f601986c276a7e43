"""Issue 8, the owner and planning reports against plain-Python references, in real chDB.

Rep status changes fall on whole minutes, so the reference can simply look at
every minute of the range (Europe/Stockholm, across the end of summer time):
who is in which status that minute, and how many are available at once.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from schemas.config import AccountConfig
from schemas.events import RepStatusChanged
from sinks.reports import parameters, report_sql, rows_sql
from sinks.reports.request import build
from sinks.rows import ColumnBatch, event_row, table_columns
from streams.core.calendars import named_calendar
from streams.core.decode import SourceRef
from tests.warehouse.test_catalogue_reports import EXAMPLES, TZ, ZONE

FROM, TO = date(2026, 10, 24), date(2026, 10, 26)  # summer time ends on the 25th: a 25-hour day
START = datetime(2026, 10, 23, 20, tzinfo=UTC)
STATUSES = ["available", "busy", "away", "offline"]


@st.composite
def status_changes(draw):
    changes = []
    for rep, team in (("anna", "billing"), ("bo", "billing"), ("carla", "support")):
        at = START + timedelta(minutes=draw(st.integers(0, 600)))
        for _ in range(draw(st.integers(0, 8))):
            changes.append((at, rep, team, draw(st.sampled_from(STATUSES))))
            at += timedelta(minutes=draw(st.integers(1, 1500)))
    return changes


def _store_changes(warehouse, changes) -> None:
    warehouse.command("TRUNCATE TABLE availability_events")
    batch = ColumnBatch(table_columns("availability_events"))
    for n, (at, rep, team, status) in enumerate(changes):
        event = RepStatusChanged(event_id=f"a{n}", type="rep.status_changed", account_id="acme", occurred_at=at,
                                 rep_id=rep, team_id=team, status=status, schema_version=1)
        _, row = event_row(event, SourceRef("availability", 0, n), "src")
        batch.append(row)
    if changes:
        warehouse.insert_columns("availability_events", batch.columns, batch.data)


def _minutes(changes):
    """Every minute of the range: (local date, {rep: (status, team)}) as the reference sees it."""
    for _, day, now in _minute_states(changes):
        yield day, now


def _minute_states(changes):
    """Every minute of the range: (its start, local date, {rep: (status, team)})."""
    lo = datetime.combine(FROM, datetime.min.time(), ZONE).astimezone(UTC)
    hi = datetime.combine(TO + timedelta(days=1), datetime.min.time(), ZONE).astimezone(UTC)
    by_rep = defaultdict(list)
    for at, rep, team, status in sorted(changes, key=lambda c: (c[0], f"a{changes.index(c)}")):
        by_rep[rep].append((at, status, team))
    at = lo
    while at < hi:
        now = {}
        for rep, steps in by_rep.items():
            before = [s for s in steps if s[0] <= at]
            if before:
                now[rep] = (before[-1][1], before[-1][2])
        yield at, at.astimezone(ZONE).date(), now
        at += timedelta(minutes=1)


def _params(freq: str, team: str = "") -> dict:
    return {**parameters(FROM, TO, freq, TZ, account="acme", team=team or None), "by": "none"}


@EXAMPLES
@given(status_changes(), st.sampled_from(["", "billing"]))
def test_rep_availability_and_max_reps_available(clean_warehouse, changes, team):
    _store_changes(clean_warehouse, changes)
    spent: Counter = Counter()
    available: dict = defaultdict(int)
    for day, now in _minutes(changes):
        mine = {rep: status for rep, (status, rep_team) in now.items() if not team or rep_team == team}
        for rep, status in mine.items():
            spent[(day, rep, status)] += 60
        count = sum(status == "available" for status in mine.values())
        if count:
            available[day] = max(available[day], count)
    result = clean_warehouse.query(report_sql("rep-availability"), _params("day", team))
    got = {(r[1], r[2], r[3]): r[4] for r in result.result_rows}
    assert got == {k: float(v) for k, v in spent.items()}
    totals = defaultdict(float)
    for (day, rep, _), seconds in spent.items():
        totals[(day, rep)] += seconds
    assert {(r[1], r[2], r[3]): r[5] for r in result.result_rows} == pytest.approx(
        {k: v / totals[k[:2]] for k, v in spent.items()}, abs=0.00005 + 1e-12)  # rounded to 4 places
    for row in result.result_rows:  # the rows behind each row add up to it
        only = {"only_period": row[1].isoformat(), "only_rep_id": row[2], "only_status": row[3]}
        behind = clean_warehouse.query(rows_sql("rep-availability", ("period", "rep_id", "status")),
                                       {**_params("day", team), **only}).result_rows
        assert sum(r[-1] for r in behind) == row[4]
    result = clean_warehouse.query(report_sql("max-reps-available"), _params("day", team))
    assert {r[1]: r[2] for r in result.result_rows} == dict(available)
    # the rows behind a day are the available pieces of that day
    for day in available:
        behind = clean_warehouse.query(rows_sql("max-reps-available", ("day",)),
                                       {**_params("day", team), "only_day": day.isoformat()}).result_rows
        assert sum(r[-1] for r in behind) == sum(60 for d, now in _minutes(changes) if d == day
                                                 for rep, (status, rep_team) in now.items()
                                                 if status == "available" and (not team or rep_team == team))


CONFIG = AccountConfig.model_validate({
    "timezone": TZ,
    "calendars": {"office": {"hours": {d: ["08:00-12:00", "13:00-17:00"] for d in ("mon", "tue", "wed", "thu", "fri")},
                             "holidays": ["2026-10-26"]},
                  "night": {"hours": {d: ["22:00-06:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}},
                  "late": {"timezone": "America/New_York", "hours": {"sat": ["09:00-21:00"], "sun": ["09:00-21:00"]}}},
    "default_calendar": "office",
    "teams": {"support": {"calendar": "night"}},
    "reps": {"anna": {"calendar": "late"}},
})


def _store_config(warehouse, config: AccountConfig) -> None:
    warehouse.command("TRUNCATE TABLE config_events")
    warehouse.insert_columns("config_events", ["account_id", "event_id", "occurred_at", "config", "schema_version",
                                               "_source", "_topic", "_partition", "_offset"],
                             [["acme"], ["cfg"], [START], [config.model_dump_json()], [1], ["src"], ["config"], [0],
                              [1]])


@EXAMPLES
@given(status_changes())
def test_rep_availability_within_and_outside_working_hours(clean_warehouse, changes):
    """Each rep's calendar: anna her own (weekends, New York), carla her team's (nights), bo the default
    (office hours, a holiday on the 26th). Whether a minute is working time comes from the core's calendar
    (tests/unit/test_business_time.py checks it against its own reference)."""
    _store_changes(clean_warehouse, changes)
    _store_config(clean_warehouse, CONFIG)

    def query(sql, params):
        result = clean_warehouse.query(sql, params)
        return list(result.column_names), [list(r) for r in result.result_rows]

    sql, params = build("rep-availability-hours", query, {"from", "to", "freq", "account"}, start=FROM, end=TO,
                        freq="day", account="acme", tz=None, by="none", day=None, filters={})
    got = {(r[1], r[2]): (r[3], r[4], r[5]) for r in clean_warehouse.query(sql, params).result_rows}
    expected: dict = defaultdict(lambda: [0.0, 0.0])
    for at, day, now in _minute_states(changes):
        for rep, (status, team) in now.items():
            if status == "available":
                name = CONFIG.reps[rep].calendar if rep in CONFIG.reps else CONFIG.calendar_name_for(team)
                working = named_calendar(CONFIG, name).working_seconds(at, at + timedelta(minutes=1))
                expected[(day, rep)][0] += 60
                expected[(day, rep)][1] += working
    assert got == {k: (a, w, a - w) for k, (a, w) in expected.items()}
