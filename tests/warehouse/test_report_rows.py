"""Issue 8: the rows behind every report (`--rows`, `--only`), `--view totals` and `--hours`, in real chDB.

Each report sums its rows (sinks/reports/rows/*.sql), so the rows behind one
report row must be exactly as many as that row counts, and the rows behind
all of them must be all the rows; the totals view must be the sum of the
periods. Histories come from the reference test's generator.
"""

from __future__ import annotations

from collections import Counter
from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from sinks.reports import catalogue, hours_columns, parameters, report_sql, rows_sql
from tests.warehouse.test_catalogue_reports import EXAMPLES, TZ, _store, histories

FROM, TO = date(2026, 10, 1), date(2026, 11, 30)

# How many rows each report row stands for (its count column); the top-10 reports cover only some rows.
COUNTED = {
    "tickets-created": lambda r: r["tickets_created"],
    "time-to-first-response": lambda r: r["tickets"],
    "time-to-close": lambda r: r["tickets"],
    "customer-wait-time": lambda r: r["waits"],
    "tickets-closed": lambda r: r["tickets_closed"],
    "sla-status": lambda r: r["on_time"] + r["late"],
    "time-in-status": lambda r: r["tickets"],
    "csat": lambda r: r["answers"],
    "ces": lambda r: r["answers"],
    "time-of-day": lambda r: r["received"] + r["sent"],
    "support-volume": lambda r: r["tickets"],
    "chat-wait-time": lambda r: r["chats"],
    "owner-reply-count": lambda r: r["tickets"],
    "customer-reply-time": lambda r: r["replies"],
    "slowest-customers": lambda r: r["replies"],
    "owner-reply-time": lambda r: r["replies"],
    "longest-waiting-customers": lambda r: r["waits"],
}
# rows from rep status changes: test_rep_reports.py
REP_REPORTS = {"rep-availability", "max-reps-available", "rep-availability-hours"}
TOP_N = {"slowest-customers", "longest-waiting-customers"}
# rows from AI agent conversations: test_agent_reports.py
AGENT_REPORTS = {"agent-conversations", "agent-vs-team", "agent-after-handoff"}


def _query(warehouse, sql: str, params: dict) -> list[dict]:
    result = warehouse.query(sql, params)
    return [dict(zip(result.column_names, r, strict=True)) for r in result.result_rows]


def _params(freq: str, by: str, view: str = "over-time") -> dict:
    return {**parameters(FROM, TO, freq, TZ, view, account="acme"), "by": by}


def test_every_report_over_a_range_has_rows_and_a_count():
    with_rows = {name for name, report in catalogue().items() if report.has_rows}
    assert with_rows == set(COUNTED) | {"ticket-reply-counts"} | REP_REPORTS | AGENT_REPORTS


@EXAMPLES
@given(histories(), st.sampled_from(["none", "rep", "team"]), st.sampled_from(["week", "month"]))
def test_the_rows_behind_each_report_row_are_as_many_as_it_counts(clean_warehouse, tickets, by, freq):
    _store(clean_warehouse, tickets)
    params = _params(freq, by)
    for name, counted in COUNTED.items():
        drill = catalogue()[name].drill
        everything = _query(clean_warehouse, rows_sql(name), params)
        covered = 0
        for row in _query(clean_warehouse, report_sql(name), params):
            only = {f"only_{c}": str(row[c]) for c in drill}
            behind = _query(clean_warehouse, rows_sql(name, drill), {**params, **only})
            assert len(behind) == counted(row), (name, row)
            assert all(str(b[c]) == str(row[c]) for b in behind for c in drill)
            covered += len(behind)
        if name not in TOP_N:
            assert covered == len(everything), name


@EXAMPLES
@given(histories())
def test_ticket_reply_counts_rows_behind_a_ticket_are_its_messages(clean_warehouse, tickets):
    _store(clean_warehouse, tickets)
    params = _params("week", "none")
    for row in _query(clean_warehouse, report_sql("ticket-reply-counts"), params):
        behind = _query(clean_warehouse, rows_sql("ticket-reply-counts", ("ticket_id",)),
                        {**params, "only_ticket_id": row["ticket_id"]})
        kind = {"most_sent": "sent", "most_received": "received"}[row["list"]]
        assert sum(b["kind"] == kind for b in behind) == row["messages"]


@EXAMPLES
@given(histories(), st.sampled_from(["none", "rep", "team"]))
def test_the_totals_view_is_one_period_that_sums_the_periods(clean_warehouse, tickets, by):
    _store(clean_warehouse, tickets)
    for name in ("tickets-closed", "sla-status", "csat", "support-volume", "customer-wait-time"):
        report = catalogue()[name]
        keys = [c for c in report.drill if c != "period"]
        over_time: Counter = Counter()
        for row in _query(clean_warehouse, report_sql(name), _params("week", by)):
            over_time[tuple(row[k] for k in keys)] += COUNTED[name](row)
        totals = _query(clean_warehouse, report_sql(name), _params("week", by, "totals"))
        assert {row["period"] for row in totals} <= {FROM}
        assert Counter({tuple(row[k] for k in keys): COUNTED[name](row) for row in totals}) == over_time


def test_hours_shows_one_kind_of_duration():
    columns = list(catalogue()["time-to-first-response"].columns)
    assert [columns[i] for i in hours_columns(columns, "24/7")] == [
        "account_id", "period", "group", "tickets", "avg_first_response_s", "median_first_response_s"]
    assert [columns[i] for i in hours_columns(columns, "sla")] == [
        "account_id", "period", "group", "tickets", "avg_first_response_sla_s", "median_first_response_sla_s"]
    assert hours_columns(columns, None) == list(range(len(columns)))


@EXAMPLES
@given(histories(), st.sampled_from(["rep", "team"]), st.data())
def test_a_chosen_set_of_groups_keeps_exactly_their_rows(clean_warehouse, tickets, by, data):
    _store(clean_warehouse, tickets)
    for name in ("time-to-first-response", "sla-status", "customer-wait-time"):
        everyone = _query(clean_warehouse, report_sql(name), _params("week", by))
        groups = sorted({r["group"] for r in everyone})
        chosen = data.draw(st.lists(st.sampled_from(groups), unique=True), label=name) if groups else []
        some = _query(clean_warehouse, report_sql(name), {**_params("week", by), "groups": chosen})
        assert repr(some) == repr([r for r in everyone if not chosen or r["group"] in chosen])  # nan != nan
        rows = _query(clean_warehouse, rows_sql(name), {**_params("week", by), "groups": chosen})
        assert all(r["group"] in chosen for r in rows) if chosen else True


@EXAMPLES
@given(histories(), st.sampled_from(["anna", "bo", "carla"]))
def test_the_rep_filter_keeps_the_rows_of_the_tickets_the_rep_owns(clean_warehouse, tickets, rep):
    _store(clean_warehouse, tickets)
    for name in ("support-volume", "sla-status", "time-of-day", "csat", "customer-wait-time"):
        everything = _query(clean_warehouse, rows_sql(name), _params("week", "none"))
        mine = _query(clean_warehouse, rows_sql(name), {**_params("week", "none"), "rep": rep})
        assert repr(mine) == repr([r for r in everything if r["owner_id"] == rep]), name
