"""Issue 8, the first reports of the catalogue, each against a plain-Python reference, in real chDB.

Hypothesis makes ticket histories (reopens, stage changes, bot messages and
notes, SLA targets in office hours); the worker's core turns each into its
facts row and its raw message / feedback rows, exactly as the pipeline
stores them; each report's SQL is then compared with the same aggregate
computed here from those objects, over an Europe/Stockholm calendar whose
range crosses the end of summer time (DST).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemas.events import FeedbackSubmitted, MessageCreated
from sinks.facts_store import COLUMNS, NULLABLE, facts_row
from sinks.reports import parameters, report_sql
from sinks.rows import ColumnBatch, event_row, table_columns
from streams.core.decode import SourceRef
from streams.core.facts import ticket_facts
from streams.core.folds import TicketFold, message_step
from streams.core.replies import Step
from streams.core.sla_clocks import Targets
from streams.core.ticket_properties import TicketState
from tests.support.references import OFFICE

TZ = "Europe/Stockholm"
ZONE = ZoneInfo(TZ)
START = datetime(2026, 10, 22, 6, tzinfo=UTC)  # summer time ends on 2026-10-25
REPS = [("anna", "billing"), ("bo", "billing"), ("carla", "support")]
TARGETS = Targets(first_response=3600.0, next_response=4 * 3600.0, time_to_close=2 * 86400.0, due_soon=600.0)


@st.composite
def ticket(draw, i: int):
    """(state, fold, messages as (at, direction, sender_type), csat answers as (at, score, scale))."""
    created = START + timedelta(minutes=draw(st.integers(0, 8 * 24 * 60)))
    owner, team = draw(st.sampled_from(REPS))
    fold = TicketFold()
    fold.add(Step(created, f"c{i}", "created", stage="new"))
    at, messages = created, []
    for j in range(draw(st.integers(0, 6))):
        at += timedelta(minutes=draw(st.integers(1, 600)))
        kind = draw(st.sampled_from(["customer", "rep", "bot", "note", "waiting", "closed", "reopen"]))
        eid = f"{i}-{j}"
        if kind in ("customer", "rep", "bot", "note"):
            direction, sender = {"customer": ("inbound", "customer"), "rep": ("outbound", "rep"),
                                 "bot": ("outbound", "bot"), "note": ("internal", "rep")}[kind]
            customer = f"cust{i % 4}"
            fold.add(message_step(direction, sender, at, eid, owner if sender == "rep" else customer, "email"))
            messages.append((at, direction, sender))
        else:
            stage = {"waiting": "waiting_on_contact", "closed": "closed", "reopen": "new"}[kind]
            fold.add(Step(at, eid, "closed" if kind == "closed" else "opened", stage=stage))
    answers = [(created + timedelta(hours=draw(st.integers(1, 48))), survey, score, scale)
               for survey, score, scale in draw(st.lists(st.sampled_from(
                   [("csat", 5, 5), ("csat", 4, 5), ("csat", 2, 5), ("csat", 9, 10), ("csat", 3, 10), ("ces", 2, 7),
                    ("ces", 6, 7)]), max_size=3))]
    channel = draw(st.sampled_from(["email", "chat"]))
    props = {"owner_id": owner, "team_id": team, "channel": channel, "pipeline": "support", "priority": "high"}
    state = TicketState("acme", f"t{i}", created, props, {k: (created, "c") for k in props})
    return state, fold, messages, answers


@st.composite
def histories(draw):
    n = draw(st.integers(1, 12))
    return [draw(ticket(i)) for i in range(n)]


def _store(warehouse, tickets) -> list:
    for table in ("ticket_facts", "message_events", "feedback_events"):
        warehouse.command(f"TRUNCATE TABLE {table}")
    facts_rows = ColumnBatch(COLUMNS, nullable=NULLABLE)
    raw: dict[str, ColumnBatch] = {}
    out = []
    for n, (state, fold, messages, answers) in enumerate(tickets):
        facts = ticket_facts(fold, TARGETS, OFFICE)
        facts_rows.append(facts_row("acme", state.ticket_id, state, facts, START, 1))
        out.append((state, facts))
        for k, (at, direction, sender) in enumerate(messages):
            event = MessageCreated(event_id=f"m{n}-{k}", type="message.created", account_id="acme", occurred_at=at,
                                   ticket_id=state.ticket_id, message_id=f"m{n}-{k}", direction=direction,
                                   sender_type=sender, sender_id="x", channel="email", schema_version=1)
            _add(raw, event, "messages", n * 100 + k)
        for k, (at, survey, score, scale) in enumerate(answers):
            event = FeedbackSubmitted(event_id=f"f{n}-{k}", type="feedback.submitted", account_id="acme",
                                      occurred_at=at, ticket_id=state.ticket_id, survey=survey, score=score,
                                      scale=scale, schema_version=1)
            _add(raw, event, "feedback", n * 100 + k)
    warehouse.insert_columns("ticket_facts", facts_rows.columns, facts_rows.data)
    for table, rows in raw.items():
        warehouse.insert_columns(table, rows.columns, rows.data)
    return out


def _add(raw: dict, event, topic: str, offset: int) -> None:
    table, row = event_row(event, SourceRef(topic, 0, offset), "src")
    raw.setdefault(table, ColumnBatch(table_columns(table))).append(row)


def _run(warehouse, name: str, freq: str = "week", by: str = "none") -> list[dict]:
    params = {**parameters(date(2026, 10, 1), date(2026, 11, 30), freq, TZ, account="acme"), "by": by}
    result = warehouse.query(report_sql(name), params)
    return [dict(zip(result.column_names, r, strict=True)) for r in result.result_rows]


def _week(at: datetime) -> date:
    local = at.astimezone(ZONE).date()
    return local - timedelta(days=local.weekday())


def _group(state, by: str) -> str:
    return {"rep": state.get("owner_id"), "team": state.get("team_id")}.get(by, "")


EXAMPLES = settings(max_examples=25, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@EXAMPLES
@given(histories(), st.sampled_from(["none", "rep", "team"]))
def test_tickets_closed_and_sla_status_and_time_in_status(clean_warehouse, tickets, by):
    stored = _store(clean_warehouse, tickets)
    closed: Counter = Counter()
    reopened: Counter = Counter()
    sla: dict = defaultdict(lambda: [0, 0])
    stages: dict = defaultdict(list)
    for state, facts in stored:
        group = _group(state, by)
        if facts.closed_at is not None:
            key = (_week(facts.closed_at), group)
            closed[key] += 1
            reopened[key] += facts.reopens > 0
            for span, spent in facts.stages:
                if spent is not None:
                    stages[(_week(facts.closed_at), "support", span.stage, group)].append(spent)
        for clock in facts.clocks:
            if clock.stopped_at is not None:
                late = clock.due_at is not None and clock.stopped_at > clock.due_at
                sla[(_week(clock.stopped_at), clock.metric, group)][late] += 1
    got = {(r["period"], r["group"]): (r["tickets_closed"], r["reopened_tickets"])
           for r in _run(clean_warehouse, "tickets-closed", by=by)}
    assert got == {k: (closed[k], reopened[k]) for k in closed}
    got = {(r["period"], r["metric"], r["group"]): (r["on_time"], r["late"], r["hit_rate"])
           for r in _run(clean_warehouse, "sla-status", by=by)}
    assert got == {k: (v[0], v[1], round(v[0] / (v[0] + v[1]), 4)) for k, v in sla.items()}
    got = {(r["period"], r["pipeline"], r["stage"], r["group"]):
           (r["tickets"], r["avg_time_in_stage_s"], r["avg_time_in_stage_sla_s"])
           for r in _run(clean_warehouse, "time-in-status", by=by)}
    assert got == {k: (len(v), round(sum(d.seconds for d in v) / len(v), 1),
                       round(sum(d.sla_seconds for d in v) / len(v), 1)) for k, v in stages.items()}


@EXAMPLES
@given(histories(), st.sampled_from(["none", "rep", "team"]))
def test_csat_and_time_of_day(clean_warehouse, tickets, by):
    stored = _store(clean_warehouse, tickets)
    answers: dict = defaultdict(list)
    hours: dict = defaultdict(lambda: [0, 0])
    for (state, _), (_, _, messages, given_answers) in zip(stored, tickets, strict=True):
        for at, survey, score, scale in given_answers:
            if survey == "csat":
                answers[(_week(at), scale, _group(state, by))].append(score)
        for at, direction, sender in messages:
            hour = at.astimezone(ZONE).hour
            if direction == "inbound":
                hours[hour][0] += 1
            elif direction == "outbound" and sender == "rep":
                hours[hour][1] += 1
    got = {(r["period"], r["scale"], r["group"]): (r["answers"], r["satisfied"], r["satisfied_share"], r["avg_score"])
           for r in _run(clean_warehouse, "csat", by=by)}
    assert got == {k: (len(v), sum(s >= k[1] - 1 for s in v), round(sum(s >= k[1] - 1 for s in v) / len(v), 4),
                       round(sum(v) / len(v), 2)) for k, v in answers.items()}
    got = {r["hour"]: (r["received"], r["sent"]) for r in _run(clean_warehouse, "time-of-day")}
    assert got == {h: tuple(v) for h, v in hours.items()}


@EXAMPLES
@given(histories(), st.sampled_from(["none", "rep", "team"]))
def test_ces_support_volume_chat_wait_and_owner_replies(clean_warehouse, tickets, by):
    from statistics import median

    stored = _store(clean_warehouse, tickets)
    ces: dict = defaultdict(list)
    volume: Counter = Counter()
    chats: dict = defaultdict(list)
    owners: dict = defaultdict(lambda: [0, 0])
    for (state, facts), (_, _, messages, answers) in zip(stored, tickets, strict=True):
        group = _group(state, by)
        for at, survey, score, scale in answers:
            if survey == "ces":
                ces[(_week(at), scale, group)].append(score)
        volume[(_week(facts.created_at), group)] += 1
        if state.get("channel") == "chat" and facts.time_to_first_response is not None:
            chats[(_week(facts.first_response_at), group)].append(facts.time_to_first_response)
        owners[state.get("owner_id")][0] += 1
        owners[state.get("owner_id")][1] += sum(1 for _, d, s in messages if d == "outbound" and s == "rep")
    got = {(r["period"], r["scale"], r["group"]): (r["answers"], r["avg_score"])
           for r in _run(clean_warehouse, "ces", by=by)}
    assert got == {k: (len(v), round(sum(v) / len(v), 2)) for k, v in ces.items()}
    got = {(r["period"], r["group"]): r["tickets"] for r in _run(clean_warehouse, "support-volume", by=by)}
    assert got == dict(volume)
    got = {(r["period"], r["group"]): (r["chats"], r["avg_chat_wait_s"], r["avg_chat_wait_sla_s"],
                                       r["median_chat_wait_s"]) for r in _run(clean_warehouse, "chat-wait-time", by=by)}
    assert got == {k: (len(v), round(sum(d.seconds for d in v) / len(v), 1),
                       round(sum(d.sla_seconds for d in v) / len(v), 1), round(median(d.seconds for d in v), 1))
                   for k, v in chats.items()}
    got = {r["owner_id"]: (r["tickets"], r["replies"], r["avg_replies_per_ticket"])
           for r in _run(clean_warehouse, "owner-reply-count")}
    assert got == {o: (t, n, round(n / t, 2)) for o, (t, n) in owners.items()}


@EXAMPLES
@given(histories(), st.sampled_from(["none", "rep", "team"]))
def test_customer_reply_time_slowest_customers_and_ticket_reply_counts(clean_warehouse, tickets, by):
    stored = _store(clean_warehouse, tickets)
    replies: dict = defaultdict(list)
    customers: dict = defaultdict(list)
    counts = {"most_sent": {}, "most_received": {}}
    for (state, facts), (_, _, messages, _) in zip(stored, tickets, strict=True):
        for interval, spent in facts.intervals:
            if interval.metric == "customer_reply":
                group = {"rep": interval.waiting, "team": state.get("team_id")}.get(by, "")
                replies[(_week(interval.ended_at), group)].append(spent)
                customers[interval.answered_by].append(spent.seconds)
        sent = sum(1 for _, d, s in messages if d == "outbound" and s == "rep")
        received = sum(1 for _, d, _ in messages if d == "inbound")
        for name, n in (("most_sent", sent), ("most_received", received)):
            if n:
                counts[name][state.ticket_id] = n
    got = {(r["period"], r["group"]): (r["replies"], r["avg_customer_reply_s"], r["avg_customer_reply_sla_s"])
           for r in _run(clean_warehouse, "customer-reply-time", by=by)}
    assert got == {k: (len(v), round(sum(d.seconds for d in v) / len(v), 1),
                       round(sum(d.sla_seconds for d in v) / len(v), 1)) for k, v in replies.items()}
    averages = {c: sum(v) / len(v) for c, v in customers.items()}
    slowest = sorted(averages, key=lambda c: (-averages[c], c))[:10]
    got = [(r["customer_id"], r["replies"], r["avg_customer_reply_s"]) for r in _run(clean_warehouse,
                                                                                     "slowest-customers")]
    assert got == [(c, len(customers[c]), round(averages[c], 1)) for c in slowest]
    got = [(r["list"], r["rank"], r["ticket_id"], r["messages"]) for r in _run(clean_warehouse,
                                                                               "ticket-reply-counts")]
    expected = []
    for name in ("most_received", "most_sent"):
        top = sorted(counts[name].items(), key=lambda kv: (-kv[1], kv[0]))[:10]
        expected += [(name, rank, ticket, n) for rank, (ticket, n) in enumerate(top, 1)]
    assert got == expected


@EXAMPLES
@given(histories())
def test_longest_waiting_customers_and_owner_reply_time(clean_warehouse, tickets):
    stored = _store(clean_warehouse, tickets)
    by_customer: dict = defaultdict(list)
    by_owner: dict = defaultdict(list)
    for state, facts in stored:
        for interval, spent in facts.intervals:
            if interval.metric == "customer_wait":
                by_customer[interval.waiting].append(spent)
                by_owner[state.get("owner_id") or ""].append(spent)

    def avg(spans, attr: str) -> float:
        return round(sum(getattr(d, attr) for d in spans) / len(spans), 1)

    mean = {c: sum(d.seconds for d in v) / len(v) for c, v in by_customer.items()}  # unrounded, as SQL sorts
    longest = sorted(by_customer, key=lambda c: (-mean[c], c))[:10]
    got = [(r["customer_id"], r["waits"], r["avg_wait_s"], r["avg_wait_sla_s"])
           for r in _run(clean_warehouse, "longest-waiting-customers")]
    assert got == [(c, len(by_customer[c]), avg(by_customer[c], "seconds"), avg(by_customer[c], "sla_seconds"))
                   for c in longest]
    got = {r["owner_id"]: (r["replies"], r["avg_reply_s"], r["avg_reply_sla_s"])
           for r in _run(clean_warehouse, "owner-reply-time")}
    assert got == {o: (len(v), avg(v, "seconds"), avg(v, "sla_seconds")) for o, v in by_owner.items()}
