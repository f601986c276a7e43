"""SLA clocks vs a reference computed from each metric's definition over the sorted history."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from streams.core.business_time import WorkCalendar, parse_ranges
from streams.core.sla_clocks import Clock, Targets, alerts_due, ticket_clocks
from tests.test_business_time import reference_add
from tests.test_ticket_metrics import T0, fold, histories, reference

OFFICE = WorkCalendar("Europe/Stockholm", tuple(
    parse_ranges(day) for day in [["08:00-12:00", "13:00-18:00"]] * 4 + [["08:00-12:00", "13:00-16:00"], [], []]),
    frozenset({date(2026, 11, 4)}))
CALENDARS = {"office": OFFICE, "24/7": WorkCalendar.twenty_four_seven()}


def reference_due(calendar: WorkCalendar, start: datetime, minutes: int) -> datetime | None:
    if calendar.always:
        return start + timedelta(minutes=minutes)
    return reference_add(calendar, start, minutes)


def reference_clocks(steps, targets: dict[str, int], calendar: WorkCalendar) -> list[tuple]:
    """(metric, start, stop, due) from the definitions (SPEC §4), over the sorted de-duplicated history."""
    ref = reference(steps)
    history = sorted({s.event_id: s for s in steps}.values(), key=lambda s: (s.at, s.event_id))
    created, first_response = ref["created_at"], ref["first_response_at"]
    closes = [s.at for s in history if s.kind == "closed"]
    out = []
    # first response: creation -> first rep reply, or the first close if that came first
    stop = min([t for t in (first_response, closes[0] if closes else None) if t is not None], default=None)
    out.append(("first_response", created, stop))
    # next response: every wait but the one the first response ended, and the one running now
    waits = [(start, end) for metric, start, end, _, _ in ref["intervals"] if metric == "customer_wait"]
    if waits and waits[0][1] == first_response:
        waits = waits[1:]
    out += [("next_response", start, end) for start, end in waits]
    waiting = ref["waiting_since"]
    if waiting is not None and first_response is not None and waiting >= first_response:
        out.append(("next_response", waiting, None))
    out.append(("time_to_close", created, ref["closed_at"]))
    return sorted((m, a, b, reference_due(calendar, a, targets[m])) for m, a, b in out)


@settings(max_examples=150, deadline=None)
@given(histories(), st.sampled_from(sorted(CALENDARS)), st.integers(1, 600), st.integers(1, 600),
       st.integers(1, 3000), st.randoms())
def test_clocks_follow_their_definitions_in_any_arrival_order(steps, calendar_name, fr, nr, ttc, rnd):
    calendar = CALENDARS[calendar_name]
    targets = {"first_response": fr, "next_response": nr, "time_to_close": ttc}
    shuffled = list(steps)
    rnd.shuffle(shuffled)
    clocks = ticket_clocks(fold(shuffled), Targets(fr * 60.0, nr * 60.0, ttc * 60.0), calendar)
    observed = sorted((c.metric, c.started_at, c.stopped_at, c.due_at) for c in clocks)
    assert observed == reference_clocks(steps, targets, calendar)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 5_000), st.integers(0, 5_000), st.one_of(st.none(), st.integers(0, 5000)))
def test_clock_state_at_any_instant(start_min, target_min, due_soon_min, stop_min):
    start = T0 + timedelta(minutes=start_min)
    due_soon = due_soon_min if due_soon_min < target_min else None
    stop = None if stop_min is None else start + timedelta(minutes=stop_min)
    [clock] = [c for c in ticket_clocks(fold_created_and_closed(start, stop),
                                        Targets(time_to_close=target_min * 60.0,
                                                due_soon=None if due_soon is None else due_soon * 60.0),
                                        WorkCalendar.twenty_four_seven())]
    due = start + timedelta(minutes=target_min)
    warn = None if due_soon is None else due - timedelta(minutes=due_soon)
    tick = timedelta(milliseconds=1)
    probes = [T0 + timedelta(minutes=m) for m in range(0, 12_000, 97)]
    probes += [t + d for t in (due, warn, start) if t is not None for d in (-tick, timedelta(0), tick)]
    for now in probes:
        if stop is not None:
            expected = "completed_late" if stop > due else "completed_on_time"
        elif now >= due:
            expected = "overdue"
        elif warn is not None and now >= warn:
            expected = "due_soon"
        else:
            expected = "active"
        assert clock.state(now) == expected


def fold_created_and_closed(start: datetime, stop: datetime | None):
    from streams.core.replies import Step
    steps = [Step(start, "a", "created")]
    if stop is not None:
        steps.append(Step(stop, "b", "closed", stage="closed"))
    return fold(steps)


def test_changing_the_target_re_targets_the_running_clock():
    from streams.core.replies import Step
    state = fold([Step(T0, "a", "created")])
    high = ticket_clocks(state, Targets(first_response=3600.0), WorkCalendar.twenty_four_seven())
    urgent = ticket_clocks(state, Targets(first_response=900.0), WorkCalendar.twenty_four_seven())
    assert high[0].due_at == T0 + timedelta(hours=1) and urgent[0].due_at == T0 + timedelta(minutes=15)
    assert high[0].key == urgent[0].key  # the same clock, re-targeted: its alerts are not repeated


def test_a_clock_alerts_only_in_its_current_state():
    clock = Clock("first_response", T0, None, 3600.0, T0 + timedelta(hours=1), T0 + timedelta(minutes=45))
    assert alerts_due([clock], T0 + timedelta(minutes=10)) == []
    assert alerts_due([clock], T0 + timedelta(minutes=50)) == [(clock, "due_soon", T0 + timedelta(minutes=45))]
    assert alerts_due([clock], T0 + timedelta(hours=2)) == [(clock, "overdue", T0 + timedelta(hours=1))]
    late = Clock("first_response", T0, T0 + timedelta(hours=2), 3600.0, T0 + timedelta(hours=1), None)
    assert alerts_due([late], T0 + timedelta(hours=3)) == [(late, "completed_late", T0 + timedelta(hours=2))]
    on_time = Clock("first_response", T0, T0 + timedelta(minutes=5), 3600.0, T0 + timedelta(hours=1), None)
    assert alerts_due([on_time], T0 + timedelta(hours=3)) == []
