"""Stage times, merges and the facts of one ticket (pure)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streams.core.business_time import RememberedCalendar, WorkCalendar
from streams.core.facts import ticket_facts
from streams.core.folds import TicketFold, TicketFolds, message_step
from streams.core.replies import Step
from streams.core.sla_clocks import Targets
from streams.core.stages import stage_spans
from tests.support.references import OFFICE, T0, calendars, fold, histories, sorted_history

STAGES = ["new", "waiting_on_us", "waiting_on_contact", "closed"]


def reference_spans(steps: list[Step]) -> dict[str, tuple]:
    """First entry and last exit per stage, straight from the definition."""
    history = [s for s in sorted_history(steps) if s.stage]
    stages = [s.stage for s in history]
    out = {}
    for stage in dict.fromkeys(stages):
        at = [i for i, s in enumerate(stages) if s == stage]
        if stages[-1] == stage:
            left = None
        else:
            after = next(i for i in range(at[-1] + 1, len(stages)) if stages[i] != stage)
            left = history[after].at
        out[stage] = (history[at[0]].at, left)
    return out


@st.composite
def stage_histories(draw):
    steps = [Step(T0, "e00", "created", stage="new")]
    for i in range(1, draw(st.integers(1, 20))):
        stage = draw(st.sampled_from(STAGES))
        at = T0 + timedelta(minutes=draw(st.integers(0, 600)))
        kind = "closed" if stage == "closed" else "opened"
        steps.append(Step(at, f"e{i:02d}", kind, stage=stage))
        if draw(st.booleans()):
            steps.append(Step(at + timedelta(minutes=1), f"m{i:02d}", "customer", "c1"))
    return steps


@settings(max_examples=300, deadline=None)
@given(stage_histories(), st.randoms())
def test_time_in_stage_runs_from_first_entry_to_last_exit_in_any_arrival_order(steps, rnd):
    shuffled = list(steps)
    rnd.shuffle(shuffled)
    state = fold(shuffled)
    spans = stage_spans(state.history)
    assert {s.stage: (s.entered_at, s.left_at) for s in spans} == reference_spans(steps)
    # the facts read the stage-setting steps the fold keeps aside, in the same order as in its history
    assert state.stage_steps == [s for s in state.history if s.stage]
    assert stage_spans(state.stage_steps) == spans


def test_time_in_stage_example():
    m = lambda minutes: T0 + timedelta(minutes=minutes)  # noqa: E731
    spans = stage_spans([Step(m(0), "a", "created", stage="new"), Step(m(10), "b", "opened", stage="waiting"),
                         Step(m(20), "c", "opened", stage="new"), Step(m(50), "d", "closed", stage="closed")])
    assert [(s.stage, s.entered_at, s.left_at) for s in spans] == [
        ("new", m(0), m(50)), ("waiting", m(10), m(20)), ("closed", m(50), None)]


def test_a_merged_tickets_messages_count_on_the_primary_also_after_the_merge():
    m = lambda minutes: T0 + timedelta(minutes=minutes)  # noqa: E731
    folds = TicketFolds()
    primary, merged = ("acme", "P"), ("acme", "M")
    folds.add(0, primary, Step(m(0), "p0", "created", stage="new"))
    folds.add(1, merged, Step(m(1), "m0", "created", stage="new"))
    folds.add(1, merged, message_step("inbound", "customer", m(2), "m1", "c1", "email"))
    folds.add(1, merged, message_step("outbound", "bot", m(3), "m2", "bot", "email"))  # a bot never answers
    folds.merge(0, "acme", "P", "M")
    folds.add(1, merged, message_step("outbound", "rep", m(9), "m3", "anna", "email"))  # after the merge
    p = folds.get(primary)[1]
    assert p.replies.first_response_at == m(9) and p.replies.first_responder == "anna"
    assert [(i.metric, i.started_at, i.ended_at) for i in p.replies.intervals] == [("customer_wait", m(2), m(9))]
    assert folds.get(merged)[1].merged_into == "P"
    facts = ticket_facts(folds.get(merged)[1], Targets(first_response=60.0), WorkCalendar.twenty_four_seven())
    assert facts.clocks == [] and facts.merged_into == "P"  # the merged ticket stops counting
    assert set(folds.take_touched()) == {primary, merged}


@settings(max_examples=200, deadline=None)
@given(histories(), st.randoms(), calendars())
def test_facts_through_a_remembered_calendar_equal_facts_computed_afresh(steps, rnd, calendar_anchor):
    """The worker keeps a RememberedCalendar per busy ticket between its facts (facts_keeper.py): after every
    step, in any arrival order (late steps re-fold the ticket), its facts equal those computed from scratch."""
    calendar, anchor = calendar_anchor
    shift = anchor - T0
    rnd.shuffle(steps)
    targets = Targets(first_response=3600.0, next_response=1800.0, time_to_close=86400.0, due_soon=600.0)
    remembered, ticket = RememberedCalendar(calendar), TicketFold()
    for step in steps:
        ticket.add(Step(step.at + shift, step.event_id, step.kind, step.who, step.channel,
                        stage=step.kind if step.kind in ("created", "closed", "opened") else ""))
        got = ticket_facts(ticket, targets, remembered)  # type: ignore[arg-type]
        remembered.settle()
        assert got == ticket_facts(ticket, targets, calendar)


def test_durations_are_given_24_7_and_in_sla_hours():
    # Created Friday 15:30 Stockholm (office closes 16:00), answered Monday 08:30: 30 + 30 working minutes.
    fri = T0.replace(day=6, hour=14, minute=30)  # 2026-11-06 14:30 UTC = 15:30 CET
    mon = fri + timedelta(days=2, hours=17)  # 2026-11-09 07:30 UTC = 08:30 CET
    ticket = TicketFold()
    for step in [Step(fri, "a", "created", stage="new"), message_step("inbound", "customer", fri, "b", "c1", "email"),
                 message_step("outbound", "rep", mon, "c", "anna", "email")]:
        ticket.add(step)
    facts = ticket_facts(ticket, Targets(first_response=3600.0, due_soon=600.0), OFFICE)
    assert facts.time_to_first_response.seconds == (mon - fri).total_seconds()
    assert facts.time_to_first_response.sla_seconds == 3600.0
    [clock] = facts.clocks
    assert clock.due_at == mon and clock.state(mon) == "completed_on_time"  # exactly on the due minute
    assert clock.due_soon_at == mon - timedelta(minutes=10)


def test_a_new_configuration_restates_every_ticket_of_its_account():
    from deskpulse.account_config import config_event, example
    from schemas.events import ConfigUpdated
    from streams.core.config_store import ConfigStore
    from streams.core.ticket_properties import TicketState
    from streams.worker.facts_keeper import FactsKeeper
    from streams.worker.sla_alerter import SlaAlerter

    config = ConfigStore()
    keeper = FactsKeeper(config, SlaAlerter("localhost:9092", "sla-alerts", 60))
    sat = T0.replace(day=7, hour=9)  # a Saturday: no office hours
    for key in (("acme", "closed-one"), ("globex", "other")):
        keeper.folds.add(0, key, Step(sat, "a", "created", stage="new"))
        keeper.folds.add(0, key, Step(sat + timedelta(hours=2), "b", "closed", stage="closed"))
    state = TicketState("acme", "closed-one", sat, {"team_id": "billing"}, {"team_id": (sat, "a")})

    def rows():
        batch, _ = keeper.flush_rows(lambda p, k: state if k == ("acme", "closed-one") else None)
        data = dict(zip(batch.columns, batch.data, strict=True))
        return dict(zip(data["ticket_id"], data["time_to_close_sla_s"], strict=True))

    assert rows() == {"closed-one": 7200.0, "other": 7200.0}  # no configuration: 24/7
    config.apply(ConfigUpdated.model_validate(config_event(example("acme"))))
    assert rows() == {"closed-one": 0.0}  # re-stated on billing's office hours; globex untouched
    assert rows() == {}


def test_a_merge_cycle_is_ignored_and_neither_ticket_vanishes():
    folds = TicketFolds()
    for ticket in ("A", "B"):
        folds.add(0, ("acme", ticket), Step(T0, f"c{ticket}", "created", stage="new"))
    assert folds.merge(0, "acme", "B", "A")  # A into B
    assert not folds.merge(0, "acme", "A", "B")  # then B into A: would close a cycle, refused
    a, b = folds.get(("acme", "A"))[1], folds.get(("acme", "B"))[1]
    assert (a.merged_into, b.merged_into) == ("B", "")  # the first merge wins; B stays a live ticket
    folds.add(0, ("acme", "C"), Step(T0, "cC", "created", stage="new"))
    assert folds.merge(0, "acme", "C", "B")  # B into C
    assert not folds.merge(0, "acme", "A", "C")  # C into A: A -> B -> C already, a cycle again
    assert folds.get(("acme", "C"))[1].merged_into == ""


def test_a_merge_seen_before_the_merged_tickets_events_still_brings_them_to_the_primary():
    """The merge (keyed by the primary) can be consumed before the merged ticket's own partition catches up."""
    folds = TicketFolds()
    folds.add(0, ("acme", "P"), Step(T0, "cP", "created", stage="new"))
    folds.merge(0, "acme", "P", "Q")  # Q not seen yet
    folds.add(1, ("acme", "Q"), Step(T0, "cQ", "created", stage="new"))
    folds.add(1, ("acme", "Q"), Step(T0 + timedelta(minutes=1), "q1", "customer", "c1"))
    folds.add(1, ("acme", "Q"), Step(T0 + timedelta(minutes=5), "q2", "rep", "anna"))
    primary, merged = folds.get(("acme", "P"))[1], folds.get(("acme", "Q"))[1]
    assert merged.merged_into == "P"
    assert [(i.metric, i.started_at) for i in primary.replies.intervals] == [
        ("customer_wait", T0 + timedelta(minutes=1))]


def test_a_merge_cycle_through_a_pending_merge_is_refused():
    folds = TicketFolds()
    folds.add(0, ("acme", "P"), Step(T0, "cP", "created", stage="new"))
    assert folds.merge(0, "acme", "P", "Q")  # Q into P, Q not seen yet
    assert not folds.merge(1, "acme", "Q", "P")  # P into Q would close the cycle
    assert folds.get(("acme", "P"))[1].merged_into == ""


def test_a_ticket_keeps_at_most_max_ticket_steps_and_refuses_the_rest():
    """Memory per ticket is bounded however long it lives (issue 10): a mail loop cannot grow a fold forever."""
    from streams.core.folds import MAX_TICKET_STEPS

    folds = TicketFolds()
    key = ("acme", "loop")
    assert folds.add(0, key, Step(T0, "c", "created", stage="new"))
    for i in range(1, MAX_TICKET_STEPS):
        assert folds.add(0, key, Step(T0 + timedelta(seconds=i), f"m{i}", "customer" if i % 2 else "rep", "x"))
    fold = folds.get(key)[1]
    assert len(fold.replies.history) == MAX_TICKET_STEPS
    before = fold.replies
    assert not folds.add(0, key, Step(T0 + timedelta(days=1), "one-more", "customer", "x"))
    assert not folds.add(0, key, Step(T0 - timedelta(days=1), "a-late-one", "customer", "x"))
    assert folds.add(0, key, Step(T0 + timedelta(seconds=5), "m5", "customer", "x"))  # a redelivery: no change
    assert fold.replies is before and len(fold.replies.history) == MAX_TICKET_STEPS


@pytest.mark.parametrize("order", ["in time order", "outer merge first"])
def test_merges_chain_whichever_merge_is_consumed_first(order):
    """X into M, then M into P: X's messages count on P. `make chaos` found P missing them when the partition
    of P's merge was read ahead of M's."""
    folds = TicketFolds()
    for partition, ticket in enumerate(("P", "M", "X")):
        folds.add(partition, ("acme", ticket), Step(T0, f"c{ticket}", "created", stage="new"))
    folds.add(2, ("acme", "X"), Step(T0 + timedelta(minutes=1), "x1", "customer", "c1"))
    folds.add(2, ("acme", "X"), Step(T0 + timedelta(minutes=3), "x2", "rep", "anna"))
    merges = [lambda: folds.merge(1, "acme", "M", "X"), lambda: folds.merge(0, "acme", "P", "M")]
    for merge in merges if order == "in time order" else reversed(merges):
        assert merge()
    folds.add(2, ("acme", "X"), Step(T0 + timedelta(minutes=9), "x3", "customer", "c1"))  # after both merges
    primary = folds.get(("acme", "P"))[1]
    assert [s.event_id for s in primary.message_steps()] == ["x1", "x2", "x3"]


def test_a_batch_adds_the_steps_of_one_instant_in_their_order():
    """A status change stamped with the reply that caused it is added before it (cause before effect), whatever
    the event ids: after it, it re-folded the ticket. The facts are the same either way; this is the cost."""
    from schemas.events import MessageCreated, TicketCreated, TicketUpdated
    from streams.core.config_store import ConfigStore
    from streams.core.decode import SourceRef
    from streams.core.ticket_properties import update_properties
    from streams.worker.facts_keeper import FactsKeeper
    from streams.worker.sla_alerter import SlaAlerter

    keeper = FactsKeeper(ConfigStore(), SlaAlerter("localhost:9092", "sla-alerts", 60))
    common = {"account_id": "acme", "ticket_id": "t1"}
    created = TicketCreated(event_id="z-created", type="ticket.created", occurred_at=T0, channel="email", **common)
    at = T0 + timedelta(minutes=5)
    reply = MessageCreated(event_id="a-reply", type="message.created", occurred_at=at, message_id="m1",
                           direction="outbound", sender_type="rep", sender_id="anna", channel="email", **common)
    question = MessageCreated(event_id="b-question", type="message.created", occurred_at=at, message_id="m0",
                              direction="inbound", sender_type="customer", sender_id="c1", channel="email", **common)
    opened = TicketUpdated(event_id="c-opened", type="ticket.updated", occurred_at=at, status="open", **common)
    state = update_properties(update_properties(None, created), opened)
    added: list[Step] = []
    add = keeper.folds.add
    keeper.folds.add = lambda partition, key, step: added.append(step) or add(partition, key, step)  # type: ignore
    source = SourceRef("tickets", 0, 0)
    keeper.apply_events([(e, source) for e in (reply, question, opened, created)], lambda p, k: state)
    assert [s.event_id for s in added] == ["z-created", "c-opened", "b-question", "a-reply"]
    assert [s.event_id for s in keeper.folds.partitions[0][("acme", "t1")].replies.history] == \
        [s.event_id for s in added]


def test_a_long_ticket_keeps_a_state_every_few_steps_not_one_per_step():
    from streams.core.replies import MARK_EVERY

    steps = [Step(T0, "e000", "created")] + [
        Step(T0 + timedelta(minutes=i), f"e{i:03d}", "customer" if i % 2 else "rep", "c1" if i % 2 else "anna")
        for i in range(1, 100)]
    late = Step(T0 + timedelta(minutes=30, seconds=30), "late", "customer", "c1")
    state = fold(steps + [late])
    assert len(state.log.marks) == 101 // MARK_EVERY + 1
    assert state == fold(sorted_history(steps + [late]))
