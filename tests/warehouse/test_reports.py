"""The duration reports over ticket facts in real chDB, against the same averages computed in Python."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from statistics import mean, median

from sinks.facts_store import COLUMNS, NULLABLE, facts_row
from sinks.reports import parameters, report_sql
from sinks.rows import ColumnBatch
from streams.core.facts import ticket_facts
from streams.core.folds import TicketFold, message_step
from streams.core.replies import Step
from streams.core.ticket_properties import TicketState
from tests.support.references import OFFICE

START = datetime(2026, 11, 2, 6, tzinfo=UTC)  # a Monday


def scripted_tickets(n: int, seed: int = 3):
    rnd = random.Random(seed)
    out = []
    for i in range(n):
        created = START + timedelta(minutes=rnd.randrange(0, 4 * 24 * 60))
        owner, team = rnd.choice([("anna", "billing"), ("bo", "billing"), ("carla", "support")])
        fold = TicketFold()
        fold.add(Step(created, f"c{i}", "created", stage="new"))
        fold.add(message_step("inbound", "customer", created, f"m{i}", "c1", "email"))
        if rnd.random() < 0.8:
            fold.add(message_step("outbound", "rep", created + timedelta(minutes=rnd.randrange(1, 3000)), f"r{i}",
                                  owner, "email"))
        if rnd.random() < 0.6:
            fold.add(Step(created + timedelta(minutes=rnd.randrange(3000, 6000)), f"x{i}", "closed", stage="closed"))
        state = TicketState("acme", f"t{i}", created, {"owner_id": owner, "team_id": team, "channel": "email"},
                            {"owner_id": (created, "c"), "team_id": (created, "c"), "channel": (created, "c")})
        out.append((state, ticket_facts(fold, None, OFFICE)))
    return out


def test_time_to_first_response_and_close_by_rep_and_team(clean_warehouse):
    tickets = scripted_tickets(60)
    rows = ColumnBatch(COLUMNS, nullable=NULLABLE)
    for state, facts in tickets:
        rows.append(facts_row("acme", state.ticket_id, state, facts, START, 1))
    clean_warehouse.insert_columns("ticket_facts", rows.columns, rows.data)
    tz = "Europe/Stockholm"

    def run(name, freq, by):
        params = {**parameters(date(2026, 10, 1), date(2026, 12, 31), freq, tz, account="acme"), "by": by}
        result = clean_warehouse.query(report_sql(name), params)
        return [dict(zip(result.column_names, r, strict=True)) for r in result.result_rows]

    by_rep = {r["group"]: r for r in run("time-to-first-response", "year", "rep")}
    for rep in ("anna", "bo", "carla"):
        mine = [f for s, f in tickets if s.get("owner_id") == rep and f.time_to_first_response]
        assert by_rep[rep]["tickets"] == len(mine)
        assert by_rep[rep]["avg_first_response_s"] == round(mean(f.time_to_first_response.seconds for f in mine), 1)
        assert by_rep[rep]["avg_first_response_sla_s"] == round(
            mean(f.time_to_first_response.sla_seconds for f in mine), 1)
        # the true median: for an even count, the mean of the two middle values (issue 10, finding 9c)
        assert by_rep[rep]["median_first_response_s"] == round(
            median(f.time_to_first_response.seconds for f in mine), 1)
    by_team = {r["group"]: r for r in run("time-to-close", "year", "team")}
    for team in ("billing", "support"):
        mine = [f for s, f in tickets if s.get("team_id") == team and f.time_to_close]
        assert by_team[team]["tickets"] == len(mine)
        assert by_team[team]["avg_time_to_close_sla_s"] == round(mean(f.time_to_close.sla_seconds for f in mine), 1)
    daily = run("time-to-close", "day", "none")
    local_days = {f.closed_at.astimezone(OFFICE.zone).date() for _, f in tickets if f.closed_at}
    assert {r["period"] for r in daily} == local_days and {r["group"] for r in daily} == {""}
    assert sum(r["tickets"] for r in daily) == sum(1 for _, f in tickets if f.closed_at)
    waits = run("customer-wait-time", "year", "rep")
    assert sum(r["waits"] for r in waits) == sum(len(f.intervals) for _, f in tickets
                                                 if any(i.metric == "customer_wait" for i, _ in f.intervals))
