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
from streams.core.live_day import local_date, same_time_yesterday
from streams.core.live_days import DayTally
from streams.core.live_index import AccountIndex, _tallied, view_of
from streams.core.live_summary import Call, Feedback, RepStatus, finalize, merge, partial, windows_of
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


def _tally(tally: DayTally) -> dict:
    return {name: getattr(tally, name) for name in DayTally.__slots__}


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
@given(accounts(), st.integers(1, 24 * 60))
def test_the_index_answers_what_the_definition_computes(account, back):
    now, steps, merges, states, later, feedback, calls, reps, filters, sla, split = account
    folds = TicketFolds()
    index = AccountIndex()
    for when, batch in enumerate((steps[:split], steps[split:])):
        for t, step in batch:
            folds.add(0, ("acme", f"T{t}"), step)
        if when == 0:
            _refresh(index, folds, states, sla)  # views of the first half, then changed by the rest
            index.partial([], [], [], ZONE, now)  # day tallies from here on kept as views change
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
    assert sum(len(h) if isinstance(h, list) else 1 for h in index._holders.values()) == \
        sum(m[1] in ("customer", "rep") for v in index.views.values() for m in v.marks)
    # each window's figures are the same read from its day's tally or from its marks, also when an answer
    # asks about an earlier instant (the tallies' cursors move back, then forward again)
    for at in (now, now - timedelta(minutes=back), now):
        zone, _, windows = windows_of(at, ZONE)
        for window in windows.values():
            assert _canonical(index._window(window, None, zone, by_day=True)) == \
                _canonical(index._window(window, None, zone, by_day=False))
    # and the tallies kept through every put, drop and move are those counted afresh from the marks held now
    assert index._days is not None and index._days.days
    for day, tally in index._days.days.items():
        fresh = DayTally(tally.cursor)
        for mark in (m for v in index.views.values() for m in v.marks):
            if local_date(mark[0], zone) == day and mark[0] <= tally.cursor and _tallied(mark, index._holders):
                fresh.count(mark, zone, 1)
        assert _tally(tally) == _tally(fresh), day


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
    assert index.partial([], [], [], ZONE, now)["today"]["messages_received"] == {"T0": 2}
    index.drop(("acme", "T0"))
    assert index.marks() == 1 and index.partial([], [], [], ZONE, now)["today"]["new_tickets"] == ["T1"]


def test_a_day_tally_counts_a_ticket_closed_before_the_window_ends_and_again_after_it():
    """Yesterday's window ends at the same time yesterday: a ticket closed before then, reopened and closed
    again later that day is closed in the window, with the time to its first close; one closed only after
    then is not. Read from the day's tally (the closes arrive after it was started) as from the marks."""
    now = datetime(2026, 11, 2, 15, tzinfo=UTC)  # 16:00 in Stockholm; the window ends yesterday 16:00
    then = same_time_yesterday(now, ZoneInfo(ZONE))
    folds, index = TicketFolds(), AccountIndex()
    states = {0: TicketState("acme", "T0"), 1: TicketState("acme", "T1")}
    for t in (0, 1):
        folds.add(0, ("acme", f"T{t}"), Step(then - timedelta(hours=6), f"T{t}c", "created", stage="new"))
    _refresh(index, folds, states, (CALENDARS[0], None))
    index.partial([], [], [], ZONE, now)  # yesterday's tally now runs to `then`
    for at, kind, stage in ((then - timedelta(hours=2), "closed", "closed"),
                            (then - timedelta(hours=1), "opened", "waiting_on_us"),
                            (then + timedelta(hours=1), "closed", "closed")):
        folds.add(0, ("acme", "T0"), Step(at, f"T0{at:%H}", kind, stage=stage))
    folds.add(0, ("acme", "T1"), Step(then + timedelta(hours=2), "T1x", "closed", stage="closed"))
    _refresh(index, folds, states, (CALENDARS[0], None))
    index.partial([], [], [], ZONE, now)
    window = windows_of(now, ZONE)[2]["yesterday"]
    for by_day in (True, False):
        part = index._window(window, None, ZoneInfo(ZONE), by_day=by_day)
        assert (part["closed"], part["ttc"]) == (["T0"], [4 * 3600.0]), by_day
