"""The live index (marks kept as tickets change) gives live_summary.partial's answer, the definition.

Random accounts: tickets with messages, status changes, merges (also chains) and deletions, properties the
filters read, SLA clocks on business hours; then more steps arrive and only the changed tickets' views are
put again, as the worker does. The index's partial must equal the reference's (lists compared as multisets:
their order is not part of the answer).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from streams.core.business_time import WorkCalendar, parse_ranges
from streams.core.folds import TicketFolds
from streams.core.live_day import same_time_yesterday
from streams.core.live_index import AccountIndex, view_of
from streams.core.live_summary import Call, Feedback, RepStatus, finalize, merge, partial
from streams.core.replies import Step
from streams.core.sla_clocks import Targets, ticket_clocks
from streams.core.ticket_properties import TicketState

ZONE = "Europe/Stockholm"
NOW_CHOICES = [datetime(2026, 10, 25, 21, 30, tzinfo=UTC), datetime(2026, 10, 26, 9, 5, tzinfo=UTC),
               datetime(2026, 11, 3, 0, 10, tzinfo=UTC), datetime(2026, 3, 29, 1, 30, tzinfo=UTC)]
CALENDARS = [WorkCalendar("UTC", (), always=True),
             WorkCalendar(ZONE, (parse_ranges(["08:00-17:00"]),) * 5 + ((), ()))]
TARGETS = Targets(first_response=3600, next_response=7200, time_to_close=86400, due_soon=1800)
FILTER_VALUES = {"team_id": ["", "billing", "support"], "owner_id": ["", "anna", "bo"],
                 "channel": ["chat", "email"], "priority": ["low", "high"], "pipeline": ["support", "sales"],
                 "category": ["", "refund"]}


@st.composite
def accounts(draw):
    now = draw(st.sampled_from(NOW_CHOICES))
    earliest = now - timedelta(hours=60)

    then = same_time_yesterday(now, ZoneInfo(ZONE))

    def moment():  # a few land after now (a clock skew, or an `at` in the past), some right on a window's end
        if draw(st.integers(0, 9)) == 0:
            return draw(st.sampled_from([now, then]))
        return earliest + timedelta(minutes=draw(st.integers(0, 60 * 60 + 90)), seconds=draw(st.integers(0, 59)))

    n = draw(st.integers(1, 7))
    steps = []
    for t in range(n):
        steps.append((t, Step(moment(), f"t{t}-c", "created", stage="new")))
        for i in range(draw(st.integers(0, 7))):
            kind = draw(st.sampled_from(["customer", "customer", "rep", "rep", "ignored", "closed", "opened"]))
            stage = {"closed": "closed", "opened": "waiting_on_us"}.get(kind, "")
            steps.append((t, Step(moment(), f"t{t}-{i}", kind, "anna" if kind == "rep" else "c1", "chat", stage)))
    order = draw(st.permutations(range(len(steps))))
    merges = [(draw(st.integers(0, n - 1)), draw(st.integers(0, n - 1))) for _ in range(draw(st.integers(0, 2)))]
    def state(t):
        return TicketState("acme", f"T{t}", None, {p: draw(st.sampled_from(v)) for p, v in FILTER_VALUES.items()},
                           deleted=draw(st.booleans()) and draw(st.booleans()))

    states = {t: state(t) for t in range(n)}
    later = {t: state(t) for t in range(n) if draw(st.booleans())}  # reassigned, deleted ... after the first half
    feedback = [Feedback(moment(), f"T{draw(st.integers(0, n))}", "csat", draw(st.integers(1, 5)), 5)
                for _ in range(draw(st.integers(0, 3)))]
    calls = [Call(moment(), draw(st.sampled_from(["anna", "bo"])), "support", "completed", 30.0)
             for _ in range(draw(st.integers(0, 2)))]
    reps = [RepStatus(moment(), "anna", "billing", draw(st.sampled_from(["available", "away"])))
            for _ in range(draw(st.integers(0, 2)))]
    filters = draw(st.sampled_from([{}, {"team": "billing"}, {"rep": "anna"}, {"channel": "chat", "pipeline": "sales"},
                                    {"category": "refund"}, {"team": "nobody"}]))
    sla = draw(st.sampled_from(CALENDARS)), draw(st.sampled_from([TARGETS, None]))  # None: no SLA, no clocks
    return (now, [steps[i] for i in order], merges, states, later, feedback, calls, reps, filters, sla,
            draw(st.integers(0, len(steps))))


def _clocks(key, fold, state, sla):
    if fold.merged_into or state.deleted:
        return []
    return ticket_clocks(fold.replies, sla[1], sla[0])


def _stamp(fold, state):
    return (fold.replies, state), (len(fold.replies.history), fold.merged_into)


def _canonical(part) -> str:
    """The partial with every list sorted (their order carries no meaning) as comparable text."""
    def walk(value):
        if isinstance(value, dict):
            return {str(k): walk(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return sorted((walk(v) for v in value), key=json.dumps)
        return value
    return json.dumps(walk(json.loads(json.dumps(part))), sort_keys=True)


def _refresh(index: AccountIndex, folds: TicketFolds, states, sla) -> int:
    """Put the views of the tickets that changed (what LiveKeeper does before each answer); how many."""
    put = 0
    for key, fold in folds.partitions.get(0, {}).items():
        state = states[int(key[1][1:])]
        stamp = _stamp(fold, state)
        if not index.current(key, stamp):
            index.put(view_of(key, stamp, fold, state, _clocks(key, fold, state, sla)))
            put += 1
    return put


@settings(max_examples=1000, deadline=None)
@given(accounts())
def test_the_index_answers_what_the_definition_computes(account):
    now, steps, merges, states, later, feedback, calls, reps, filters, sla, split = account
    folds = TicketFolds()
    index = AccountIndex()
    for when, batch in enumerate((steps[:split], steps[split:])):
        for t, step in batch:
            folds.add(0, ("acme", f"T{t}"), step)
        if when == 0:
            _refresh(index, folds, states, sla)  # views of the first half, then changed by the rest
            states = {**states, **later}
        for merged, primary in merges[when::2]:
            if merged != primary:
                folds.merge(0, "acme", f"T{primary}", f"T{merged}")
    _refresh(index, folds, states, sla)
    rows = [(k, f, states[int(k[1][1:])]) for k, f in folds.partitions.get(0, {}).items()]
    clocks = {k: _clocks(k, f, s, sla) for k, f, s in rows}
    expected = partial(rows, clocks, calls, feedback, reps, ZONE, now, filters)
    got = index.partial(calls, feedback, reps, ZONE, now, filters)
    a, b = json.loads(_canonical(got)), json.loads(_canonical(expected))
    assert {(k, f): (a[k][f], b[k][f]) for k in a if isinstance(a[k], dict) for f in a[k]
            if a[k][f] != b[k][f]} == {}
    assert a == b
    assert finalize(merge([got]), ZONE, now, filters)["figures"] == \
        finalize(merge([expected]), ZONE, now, filters)["figures"]
    assert index.marks() == sum(len(v.marks) for v in index.views.values())
    assert sum(index._holders.values()) == sum(m[1] in ("customer", "rep") for v in index.views.values()
                                               for m in v.marks)


def test_a_view_is_put_again_only_when_its_ticket_changed():
    now = datetime(2026, 11, 2, 15, tzinfo=UTC)
    folds, index = TicketFolds(), AccountIndex()
    states = {0: TicketState("acme", "T0"), 1: TicketState("acme", "T1")}
    for t in (0, 1):
        folds.add(0, ("acme", f"T{t}"), Step(now - timedelta(hours=2), f"T{t}c", "created", stage="new"))
    assert _refresh(index, folds, states, (CALENDARS[0], TARGETS)) == 2
    assert _refresh(index, folds, states, (CALENDARS[0], TARGETS)) == 0
    # a message that changes no metric keeps the fold's state object, but not its number of steps
    folds.add(0, ("acme", "T0"), Step(now - timedelta(hours=1), "m1", "customer", "c1", "chat"))
    folds.add(0, ("acme", "T0"), Step(now - timedelta(minutes=50), "m2", "customer", "c1", "chat"))
    assert _refresh(index, folds, states, (CALENDARS[0], TARGETS)) == 1
    assert index.partial([], [], [], ZONE, now)["today"]["messages_received"] == ["T0", "T0"]
    index.drop(("acme", "T0"))
    assert index.marks() == 1 and index.partial([], [], [], ZONE, now)["today"]["new_tickets"] == ["T1"]
