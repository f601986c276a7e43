"""Incremental reply metrics vs a reference that recomputes from the full sorted history."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from streams.core.replies import Step
from tests.support.references import T0, fold, histories, observed, reference


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
