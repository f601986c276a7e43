"""Incremental reply metrics vs a reference that recomputes from the full sorted history."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from streams.core.replies import ReplyState, Step, add_step

T0 = datetime(2026, 11, 2, 9, tzinfo=UTC)


def reference(steps: list[Step]) -> dict:
    """Every metric straight from its definition, over the sorted, de-duplicated history."""
    history = sorted({s.event_id: s for s in steps}.values(), key=lambda s: (s.at, s.event_id))
    intervals, active, closed, closed_at, reopens, first_response = [], [], False, None, 0, None

    def emit(messages):
        runs = [list(group) for _, group in itertools.groupby(messages, key=lambda s: s.kind)]
        for run, answer in itertools.pairwise(runs):
            metric = "customer_wait" if run[0].kind == "customer" else "customer_reply"
            intervals.append((metric, run[0].at, answer[0].at, run[0].who, answer[0].who))

    for s in history:
        if s.kind in ("customer", "rep") and not closed:
            active.append(s)
            if s.kind == "rep" and first_response is None:
                first_response = s.at
        elif s.kind == "closed" and not closed:
            emit(active)
            active, closed, closed_at = [], True, s.at
        elif s.kind == "opened" and closed:
            active, closed, closed_at, reopens = [], False, None, reopens + 1
    emit(active)
    created = [s.at for s in history if s.kind == "created"]
    runs = [list(group) for _, group in itertools.groupby(active, key=lambda s: s.kind)]
    waiting = runs[-1][0].at if runs and runs[-1][0].kind == "customer" and not closed else None
    return {
        "created_at": min(created) if created else None,
        "first_response_at": first_response,
        "closed_at": closed_at,
        "reopens": reopens,
        "intervals": sorted(intervals),
        "waiting_since": waiting,
    }


def observed(state: ReplyState) -> dict:
    return {
        "created_at": state.created_at,
        "first_response_at": state.first_response_at,
        "closed_at": state.closed_at,
        "reopens": state.reopens,
        "intervals": sorted((i.metric, i.started_at, i.ended_at, i.waiting, i.answered_by) for i in state.intervals),
        "waiting_since": state.waiting_since,
    }


@st.composite
def histories(draw):
    n = draw(st.integers(1, 25))
    steps = [Step(T0, "e00", "created")]
    for i in range(1, n):
        kind = draw(st.sampled_from(["customer", "customer", "rep", "rep", "ignored", "closed", "opened"]))
        who = draw(st.sampled_from(["c1", "c2"])) if kind == "customer" else draw(st.sampled_from(["anna", "bo"]))
        at = T0 + timedelta(minutes=draw(st.integers(0, 240)))
        steps.append(Step(at, f"e{i:02d}", kind, who if kind in ("customer", "rep") else ""))
    return steps


def fold(steps):
    state = ReplyState()
    for s in steps:
        state = add_step(state, s)
    return state


@settings(max_examples=400, deadline=None)
@given(histories(), st.randoms())
def test_any_arrival_order_gives_the_reference_metrics(steps, rnd):
    shuffled = list(steps)
    rnd.shuffle(shuffled)
    assert observed(fold(shuffled)) == reference(steps)


@settings(max_examples=150, deadline=None)
@given(histories())
def test_redelivered_steps_change_nothing(steps):
    assert observed(fold(steps + steps[::2])) == observed(fold(steps))


def test_the_clock_runs_from_the_first_message_of_a_series_and_bots_do_not_answer():
    m = lambda minutes: T0 + timedelta(minutes=minutes)  # noqa: E731
    state = fold([
        Step(m(0), "a", "created"),
        Step(m(1), "b", "customer", "c1", "chat"),
        Step(m(2), "c", "ignored"),  # a bot message / an internal note
        Step(m(5), "d", "customer", "c1", "chat"),  # same series: the clock keeps running from m(1)
        Step(m(9), "e", "rep", "anna", "chat"),
        Step(m(10), "f", "rep", "anna", "chat"),
        Step(m(30), "g", "customer", "c1", "chat"),
        Step(m(40), "h", "closed"),
        Step(m(50), "i", "opened"),
        Step(m(55), "j", "customer", "c1", "chat"),
    ])
    assert state.first_response_at == m(9) and state.first_responder == "anna"
    waits = [(i.started_at, i.ended_at, i.first) for i in state.intervals if i.metric == "customer_wait"]
    assert waits == [(m(1), m(9), True)]
    replies = [(i.started_at, i.ended_at) for i in state.intervals if i.metric == "customer_reply"]
    assert replies == [(m(9), m(30))]  # the rep series answered by the customer; m(30)'s wait died at the close
    assert state.reopens == 1 and state.closed_at is None and state.waiting_since == m(55)
