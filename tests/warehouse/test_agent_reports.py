"""Issue 9: the AI agent's reports, each against a plain-Python reference, in real chDB, through the same request
path as the CLI and the API (`build`, with the account's configuration stored as the worker stores it).

Hypothesis makes conversations (their events folded by the core, as the worker does) and the tickets their
handoffs create: closed or open, reassigned, merged into a closed primary, closed before the handoff (clock
skew). The range crosses the end of summer time in Stockholm; SLA hours come from the core's calendars.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from schemas.config import AccountConfig
from schemas.events import TicketMerged
from sinks import conversation_store
from sinks.facts_store import COLUMNS, NULLABLE, facts_row
from sinks.reports import catalogue
from sinks.reports.request import build
from sinks.rows import ColumnBatch, event_row, table_columns
from streams.core.agent_conversations import AgentEventStep, ConversationFold
from streams.core.calendars import named_calendar
from streams.core.decode import SourceRef
from streams.core.facts import ticket_facts
from streams.core.folds import TicketFold
from streams.core.replies import Step
from streams.core.ticket_properties import TicketState
from tests.warehouse.test_catalogue_reports import EXAMPLES

TZ = "Europe/Stockholm"
ZONE = ZoneInfo(TZ)
START = datetime(2026, 10, 19, 6, tzinfo=UTC)  # a Monday; summer time ends on 2026-10-25
FROM, TO = date(2026, 10, 19), date(2026, 11, 8)
CONFIG = AccountConfig.model_validate({
    "timezone": TZ,
    "calendars": {"office": {"hours": {d: ["08:00-12:00", "13:00-17:00"] for d in ("mon", "tue", "wed", "thu", "fri")},
                             "holidays": ["2026-10-26"]},
                  "night": {"hours": {d: ["22:00-06:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}}},
    "teams": {"support": {"calendar": "night"}},
    "sla": {"hours": "working", "calendar": "office", "all": {"first_response": 60}},
})
KINDS = ["agent.answered", "agent.unanswered", "agent.handed_off", "agent.resolved", "agent.feedback",
         "agent.conversation_closed"]


@st.composite
def conversation(draw, i: int):
    """(conversation facts, its handoff ticket or None as (owner, team, closed_at, merged into a closed primary))."""
    started = START + timedelta(minutes=draw(st.integers(0, 20 * 24 * 60)))
    fold = ConversationFold()
    fold.add(AgentEventStep(started, f"{i}-s", "agent.conversation_started",
                            channel=draw(st.sampled_from(["chat", "messenger"]))))
    for j in range(draw(st.integers(0, 5))):
        kind = draw(st.sampled_from(KINDS))
        at = started + timedelta(minutes=draw(st.integers(0, 90)))
        fold.add(AgentEventStep(at, f"{i}-{j}", kind, ticket_id=f"T{i}" if kind == "agent.handed_off" else "",
                                to_rep_id=draw(st.sampled_from(["", "anna"])), to_team_id="billing",
                                helpful=draw(st.booleans()) if kind == "agent.feedback" else None))
    facts = fold.facts()
    ticket = None
    if facts.handed_off:
        owner = draw(st.sampled_from(["", "bo", "carla"]))
        team = draw(st.sampled_from(["", "billing", "support"]))
        closed = None
        if draw(st.booleans()):
            closed = facts.handed_off_at + timedelta(minutes=draw(st.integers(-30, 5 * 24 * 60)))
        ticket = (owner, team, closed, draw(st.booleans()))
    return facts, ticket


@st.composite
def conversations(draw):
    return [draw(conversation(i)) for i in range(draw(st.integers(1, 14)))]


def _ticket_row(ticket_id: str, owner: str, team: str, created: datetime, closed: datetime | None) -> tuple:
    fold = TicketFold()
    fold.add(Step(created, f"{ticket_id}-c", "created", stage="new"))
    if closed is not None:
        fold.add(Step(max(closed, created), f"{ticket_id}-x", "closed", stage="closed"))
    props = {"owner_id": owner, "team_id": team, "channel": "chat", "pipeline": "support", "priority": "high"}
    state = TicketState("acme", ticket_id, created, props, {k: (created, "c") for k in props})
    return facts_row("acme", ticket_id, state, ticket_facts(fold, None, named_calendar(CONFIG, None)), START, 1)


def _store(warehouse, convs) -> None:
    for table in ("agent_conversation_facts", "ticket_facts", "ticket_events", "config_events"):
        warehouse.command(f"TRUNCATE TABLE {table}")
    warehouse.insert_columns("config_events", ["account_id", "event_id", "occurred_at", "config", "schema_version",
                                               "_source", "_topic", "_partition", "_offset"],
                             [["acme"], ["cfg"], [START], [CONFIG.model_dump_json()], [1], ["src"], ["config"], [0],
                              [1]])
    rows = ColumnBatch(conversation_store.COLUMNS, nullable=conversation_store.NULLABLE)
    tickets = ColumnBatch(COLUMNS, nullable=NULLABLE)
    merges = ColumnBatch(table_columns("ticket_events"))
    for i, (facts, ticket) in enumerate(convs):
        rows.append(conversation_store.conversation_row(("acme", f"c{i}"), facts, START, 1))
        if ticket is None:
            continue
        owner, team, closed, merged = ticket
        created = facts.handed_off_at
        if merged:  # the handoff ticket stays open; its primary carries the close
            tickets.append(_ticket_row(f"T{i}", "", "", created, None))
            tickets.append(_ticket_row(f"P{i}", owner, team, created - timedelta(hours=1), closed))
            event = TicketMerged(event_id=f"m{i}", type="ticket.merged", account_id="acme", occurred_at=created,
                                 ticket_id=f"P{i}", merged_ticket_id=f"T{i}", schema_version=1)
            merges.append(event_row(event, SourceRef("tickets", 0, i), "src")[1])
        else:
            tickets.append(_ticket_row(f"T{i}", owner, team, created, closed))
    warehouse.insert_columns("agent_conversation_facts", rows.columns, rows.data)
    warehouse.insert_columns("ticket_facts", tickets.columns, tickets.data)
    if merges.rows:
        warehouse.insert_columns("ticket_events", merges.columns, merges.data)


def _run(warehouse, name: str, rows: bool = False, only: dict | None = None, **options) -> list[dict]:
    def query(sql, params):
        result = warehouse.query(sql, params)
        return list(result.column_names), [list(r) for r in result.result_rows]

    given_options = {"from", "to", "freq", "account", *(k for k in ("by",) if options.get("by", "none") != "none")}
    if name in ("agent-impact", "agent-day"):
        given_options = {"account", "day"}
    sql, params = build(name, query, given_options, start=FROM, end=TO, freq="week", account="acme", tz=None,
                        by=options.get("by", "none"), day=options.get("day"), filters={}, rows=rows, only=only)
    result = warehouse.query(sql, params)
    return [dict(zip(result.column_names, r, strict=True)) for r in result.result_rows]


def _week(at: datetime) -> date:
    local = at.astimezone(ZONE).date()
    return local - timedelta(days=local.weekday())


def _in_range(at: datetime) -> bool:
    return FROM <= at.astimezone(ZONE).date() <= TO


def _rate(a: int, b: int):
    return None if b == 0 else round(a / b, 4)


def _avg(values: list[float]):
    return round(sum(values) / len(values), 1) if values else None


def _close(facts, ticket):
    """(owner, team, closed_at) the reports see for a handoff ticket (a merged one: its primary's, created an
    hour before the handoff); a close is never before the ticket's creation."""
    owner, team, closed, merged = ticket
    created = facts.handed_off_at - timedelta(hours=1) if merged else facts.handed_off_at
    return owner, team, max(closed, created) if closed is not None else None


@EXAMPLES
@given(conversations())
def test_agent_conversations_over_time_and_by_channel(clean_warehouse, convs):
    _store(clean_warehouse, convs)
    groups: dict = defaultdict(list)
    for facts, _ in convs:
        if _in_range(facts.started_at):
            groups[(_week(facts.started_at), facts.channel)].append(facts)
    expected = []
    for (period, channel), fs in sorted(groups.items()):
        handled = sum(f.handled for f in fs)
        resolved = [f for f in fs if f.resolved_by_agent]
        deflections = sum(f.deflected for f in fs)
        handoffs = sum(f.handed_off for f in fs)
        good, bad = sum(f.helpful is True for f in fs), sum(f.helpful is False for f in fs)
        expected.append({
            "account_id": "acme", "period": period, "channel": channel, "conversations": len(fs), "handled": handled,
            "handling_rate": _rate(handled, len(fs)), "resolved": len(resolved),
            "resolution_rate": _rate(len(resolved), handled),
            "avg_resolution_s": _avg([f.resolution_s for f in resolved]),
            "deflections": deflections, "deflection_rate": _rate(deflections, handled), "handoffs": handoffs,
            "handoff_rate": _rate(handoffs, handled), "helpful_feedback": good, "unhelpful_feedback": bad,
            "helpful_share": _rate(good, good + bad)})
    assert _run(clean_warehouse, "agent-conversations") == expected


@EXAMPLES
@given(conversations())
def test_agent_vs_team_counts_each_resolution_once_by_whom_and_when(clean_warehouse, convs):
    _store(clean_warehouse, convs)
    counts: dict = defaultdict(int)
    for facts, ticket in convs:
        if facts.resolved_by_agent:
            who, kind, at = "AI agent", "agent", facts.resolved_at
        elif ticket is not None and _close(facts, ticket)[2] is not None:
            owner, _, closed = _close(facts, ticket)
            who, kind, at = owner or facts.to_rep_id or "(unassigned)", "rep", closed
        else:
            continue
        if _in_range(at):
            counts[(_week(at), who, kind)] += 1
    got = {(r["period"], r["resolver"], r["resolver_kind"]): r["resolved"]
           for r in _run(clean_warehouse, "agent-vs-team")}
    assert got == dict(counts)


@EXAMPLES
@given(conversations(), st.sampled_from(["none", "team"]))
def test_after_handoff_resolution_share_and_time_to_close_in_24_7_and_sla_hours(clean_warehouse, convs, by):
    _store(clean_warehouse, convs)
    groups: dict = defaultdict(list)
    for facts, ticket in convs:
        if ticket is None or not _in_range(facts.handed_off_at):
            continue
        owner, team, closed = _close(facts, ticket)
        team = team or facts.to_team_id
        seconds = sla = None
        if closed is not None:
            seconds = max(0.0, (closed - facts.handed_off_at).total_seconds())
            calendar = named_calendar(CONFIG, CONFIG.sla_calendar_name_for(team))
            sla = calendar.working_seconds(facts.handed_off_at, closed) if closed > facts.handed_off_at else 0.0
        groups[(_week(facts.handed_off_at), team if by == "team" else "")].append((closed is not None, seconds, sla))
    expected = []
    for (period, group), items in sorted(groups.items()):
        done = [i for i in items if i[0]]
        expected.append({"account_id": "acme", "period": period, "group": group, "handoffs": len(items),
                         "team_resolved_conversations": len(done),
                         "team_resolution_rate": _rate(len(done), len(items)),
                         "avg_handoff_to_close_s": _avg([i[1] for i in done]),
                         "avg_handoff_to_close_sla_s": _avg([i[2] for i in done])})
    assert _run(clean_warehouse, "agent-after-handoff", by=by) == expected


@EXAMPLES
@given(conversations(), st.integers(0, 20))
def test_impact_this_week_against_the_same_stretch_of_the_previous_week(clean_warehouse, convs, offset):
    _store(clean_warehouse, convs)
    day = FROM + timedelta(days=offset)
    monday = day - timedelta(days=day.weekday())

    def local(d: date) -> datetime:
        return datetime.combine(d, datetime.min.time(), ZONE)

    def week(lo: date, hi: date) -> list:
        return [f for f, _ in convs if local(lo) <= f.started_at < local(hi)]

    this, previous = week(monday, day + timedelta(days=1)), week(monday - timedelta(days=7), day - timedelta(days=6))

    def figures(fs):
        handled = sum(f.handled for f in fs)
        resolved = [f for f in fs if f.resolved_by_agent]
        rated = [f for f in fs if f.helpful is not None]
        return (handled, len(resolved), _avg([f.resolution_s for f in resolved]),
                _rate(sum(f.deflected for f in fs), handled), _rate(sum(f.helpful for f in rated), len(rated)))

    [got] = _run(clean_warehouse, "agent-impact", day=day)
    (h, r, a, d, s), (hp, rp, ap, dp, sp) = figures(this), figures(previous)
    assert got == {"account_id": "acme", "week_from": monday, "handled": h, "handled_previous": hp, "resolved": r,
                   "resolved_previous": rp, "avg_resolution_s": a, "avg_resolution_previous_s": ap,
                   "deflection_rate": d, "deflection_rate_previous": dp, "helpful_share": s,
                   "helpful_share_previous": sp}


COUNTED = {"agent-conversations": "conversations", "agent-vs-team": "resolved", "agent-after-handoff": "handoffs"}


@EXAMPLES
@given(conversations())
def test_the_rows_behind_each_agent_report_row_are_as_many_as_it_counts(clean_warehouse, convs):
    _store(clean_warehouse, convs)
    for name, count in COUNTED.items():
        drill = catalogue()[name].drill
        everything = _run(clean_warehouse, name, rows=True)
        covered = 0
        for row in _run(clean_warehouse, name):
            behind = _run(clean_warehouse, name, rows=True, only={c: str(row[c]) for c in drill})
            assert len(behind) == row[count] and all(str(b[c]) == str(row[c]) for b in behind for c in drill)
            covered += len(behind)
        assert covered == len(everything), name


@EXAMPLES
@given(conversations(), st.integers(0, 20))
def test_a_day_against_the_day_before(clean_warehouse, convs, offset):
    _store(clean_warehouse, convs)
    day = FROM + timedelta(days=offset)

    def on(d: date) -> list:
        lo = datetime.combine(d, datetime.min.time(), ZONE)
        hi = datetime.combine(d + timedelta(days=1), datetime.min.time(), ZONE)
        return [f for f, _ in convs if lo <= f.started_at < hi]

    def figures(fs):
        rated = [f for f in fs if f.helpful is not None]
        return (len(fs), sum(f.handled for f in fs), sum(f.resolved_by_agent for f in fs), sum(f.deflected for f in fs),
                sum(f.handed_off for f in fs), _rate(sum(f.helpful for f in rated), len(rated)))

    [got] = _run(clean_warehouse, "agent-day", day=day)
    names = ("conversations", "handled", "resolved", "deflections", "handoffs", "helpful_share")
    assert tuple(got[n] for n in names) == figures(on(day))
    assert tuple(got[f"{n}_yesterday"] for n in names) == figures(on(day - timedelta(days=1)))
