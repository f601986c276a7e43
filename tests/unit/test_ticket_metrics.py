"""Incremental reply metrics vs a reference that recomputes from the full sorted history."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streams.core.replies import MARK_EVERY, Step, add_step
from tests.support.references import T0, fold, histories, observed, reference, sorted_history


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


def _assert_marks_hold(state):
    """Every kept state is the fold of the steps before its place; kept ones are never far apart."""
    log = state.log
    assert log.marked[0] == 0 and all(a < b for a, b in zip(log.marked, log.marked[1:], strict=False))
    ends = [*log.marked[1:], len(log.history)]
    assert all(b - a <= 2 * MARK_EVERY for a, b in zip(log.marked, ends, strict=True))
    for k, mark in zip(log.marked, log.marks, strict=True):
        assert mark.log is None and mark == fold(log.history[:k])


@settings(max_examples=200, deadline=None)
@given(st.lists(histories(), min_size=1, max_size=4), st.randoms())
def test_a_long_history_in_any_order_keeps_true_states_close_together(parts, rnd):
    # several histories as one ticket's steps (ids kept apart): long enough for many kept states
    steps = [Step(s.at, f"{i}{s.event_id}", s.kind, s.who) for i, part in enumerate(parts) for s in part]
    rnd.shuffle(steps)
    state = fold(steps)
    assert state.history == sorted_history(steps)
    _assert_marks_hold(state)
    assert observed(state) == reference(steps)


def test_late_steps_that_change_nothing_move_no_state_and_keep_states_close():
    m = lambda minutes: T0 + timedelta(minutes=minutes)  # noqa: E731
    steps = [Step(m(0), "created", "created", stage="new")] + [
        Step(m(500 + i), f"c{i:02d}", "customer", "c1") for i in range(20)]
    state = fold(steps)
    # status changes to open stages, each older than the last: the ticket stays open, nothing changes
    for i in range(300):
        assert add_step(state, Step(m(499 - i / 2), f"o{i:03d}", "opened", stage="open")) is state  # nothing moved
    assert len(state.history) == 321
    _assert_marks_hold(state)
    assert observed(state) == reference(state.history)


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


# --- issue 10, finding 9: ties, skew and rep-opened tickets -------------------------------------

def _ms(n: int):
    return T0 + timedelta(milliseconds=n)


@pytest.mark.parametrize(("message_id", "reopen_id"), [("a", "z"), ("z", "a")])
def test_a_customer_message_that_reopens_a_ticket_in_the_same_millisecond_is_a_wait(message_id, reopen_id):
    steps = [Step(_ms(0), "c0", "created"), Step(_ms(10), "m1", "customer", "c1"), Step(_ms(20), "r1", "rep", "anna"),
             Step(_ms(30), "x1", "closed"), Step(_ms(40), message_id, "customer", "c1"),
             Step(_ms(40), reopen_id, "opened"), Step(_ms(50), "r2", "rep", "anna")]
    waits = [i for i in fold(steps).intervals if i.metric == "customer_wait"]
    assert [(w.started_at, w.ended_at) for w in waits] == [(_ms(10), _ms(20)), (_ms(40), _ms(50))]


@pytest.mark.parametrize(("created_id", "reply_id"), [("a", "z"), ("z", "a")])
def test_a_reply_stamped_with_the_creation_is_the_first_response(created_id, reply_id):
    steps = [Step(_ms(0), "m1", "customer", "c1"), Step(_ms(5), created_id, "created"),
             Step(_ms(5), reply_id, "rep", "anna")]
    state = fold(steps)
    assert state.first_response_at == _ms(5) and state.first_response_from == _ms(5)


def test_a_rep_message_timed_before_the_creation_is_not_the_first_response():
    steps = [Step(_ms(0), "r0", "rep", "anna"), Step(_ms(5), "c0", "created"),
             Step(_ms(60_000), "m1", "customer", "c1"), Step(_ms(120_000), "r1", "rep", "bo")]
    for order in (steps, steps[::-1]):
        state = fold(order)
        assert (state.first_response_at, state.first_responder) == (_ms(120_000), "bo")
        assert state.first_response_from == _ms(5)


def test_a_ticket_opened_by_a_rep_measures_from_the_customers_first_message():
    opened = [Step(_ms(0), "c0", "created"), Step(_ms(1), "r0", "rep", "anna")]
    assert fold(opened).first_response_at is None and fold(opened).first_response_from is None
    answered = [*opened, Step(_ms(60_000), "m1", "customer", "c1"), Step(_ms(90_000), "r1", "rep", "anna")]
    state = fold(answered)
    assert (state.first_response_from, state.first_response_at) == (_ms(60_000), _ms(90_000))


def test_a_long_ticket_costs_memory_in_proportion_to_its_events():
    """Issue 10, finding 5: each event copied the ticket's history, ids and snapshots (16,000 messages took
    1 GB). Memory, not time, is checked here: the benchmark figures are in docs/performance.md."""
    import tracemalloc

    from streams.core.folds import TicketFold

    fold = TicketFold()
    fold.add(Step(T0, "c", "created", stage="new"))
    tracemalloc.start()
    for i in range(20_000):
        fold.add(Step(T0 + timedelta(seconds=i + 1), f"m{i}", "customer" if i % 2 == 0 else "rep", "x", "email"))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert len(fold.replies.intervals) == 19_999
    assert peak < 40_000_000, f"{peak / 1e6:.0f} MB for 20,000 messages"
