"""SLA clocks vs a reference computed from each metric's definition over the sorted history."""

from __future__ import annotations

from datetime import datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from streams.core.business_time import WorkCalendar
from streams.core.sla_clocks import Clock, Targets, alerts_due, ticket_clocks
from tests.support.references import CALENDARS, T0, fold, histories, reference_clocks


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
