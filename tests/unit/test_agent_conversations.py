"""Issue 9 (a start): the agent's per-conversation facts under any arrival order and repeats, against a
reference that sorts the conversation's distinct events and reads them in time order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from streams.core.agent_conversations import AGENT_ACTS, AgentEventStep, ConversationFacts, ConversationFold

T0 = datetime(2026, 11, 2, 9, tzinfo=UTC)
KINDS = ["agent.conversation_started", "agent.answered", "agent.unanswered", "agent.handed_off", "agent.resolved",
         "agent.feedback", "agent.conversation_closed"]


@st.composite
def conversations(draw) -> list[AgentEventStep]:
    steps = []
    for i in range(draw(st.integers(1, 10))):
        kind = draw(st.sampled_from(KINDS))
        at = T0 + timedelta(seconds=draw(st.integers(0, 3600)))  # equal times happen: ties by event id
        steps.append(AgentEventStep(
            at, f"e{i}", kind, channel=draw(st.sampled_from(["chat", "messenger"])),
            ticket_id=f"t{i}" if kind == "agent.handed_off" else "",
            to_rep_id=draw(st.sampled_from(["", "anna"])) if kind == "agent.handed_off" else "",
            helpful=draw(st.booleans()) if kind == "agent.feedback" else None))
    return steps


def reference(steps: list[AgentEventStep]) -> ConversationFacts:
    """The definitions of streams/core/agent_conversations.py, read off the sorted distinct events."""
    events = sorted({s.event_id: s for s in steps}.values(), key=lambda s: (s.at, s.event_id))
    starts = [s for s in events if s.kind == "agent.conversation_started"]
    handoffs = [s for s in events if s.kind == "agent.handed_off"]
    resolutions = [s for s in events if s.kind == "agent.resolved"]
    feedback = [s for s in events if s.kind == "agent.feedback"]
    closed_at = events[-1].at if events[-1].kind == "agent.conversation_closed" else None
    resolved_by_agent = bool(resolutions) and not handoffs
    first = handoffs[0] if handoffs else None
    return ConversationFacts(
        started_at=events[0].at, channel=starts[0].channel if starts else "chat",
        handled=any(s.kind in AGENT_ACTS for s in events), handed_off=bool(handoffs),
        handed_off_at=first.at if first else None, ticket_id=first.ticket_id if first else "",
        to_rep_id=first.to_rep_id if first else "", to_team_id=first.to_team_id if first else "",
        resolved_by_agent=resolved_by_agent, resolved_at=resolutions[0].at if resolved_by_agent else None,
        closed_at=closed_at,
        deflected=any(s.kind in AGENT_ACTS for s in events) and closed_at is not None and not handoffs,
        resolution_s=(resolutions[0].at - events[0].at).total_seconds() if resolved_by_agent else None,
        helpful=feedback[-1].helpful if feedback else None)


@settings(max_examples=300)
@given(conversations(), st.randoms(use_true_random=False), st.data())
def test_any_arrival_order_with_repeats_gives_the_reference_facts(steps, rng, data):
    arrival = steps + data.draw(st.lists(st.sampled_from(steps), max_size=4), label="repeats")
    rng.shuffle(arrival)
    fold = ConversationFold()
    added = [fold.add(step) for step in arrival]
    assert sum(added) == len(steps)  # each repeat is recognised
    assert fold.facts() == reference(steps)


def test_a_conversation_that_goes_on_after_a_close_is_open_again():
    fold = ConversationFold()
    fold.add(AgentEventStep(T0, "a", "agent.conversation_started"))
    fold.add(AgentEventStep(T0 + timedelta(minutes=1), "a2", "agent.answered"))
    fold.add(AgentEventStep(T0 + timedelta(minutes=5), "b", "agent.conversation_closed"))
    assert fold.facts().deflected and fold.facts().closed_at == T0 + timedelta(minutes=5)
    fold.add(AgentEventStep(T0 + timedelta(minutes=7), "c", "agent.unanswered"))
    assert fold.facts().closed_at is None and not fold.facts().deflected


def test_a_handoff_after_a_resolution_is_not_an_agent_resolution():
    fold = ConversationFold()
    fold.add(AgentEventStep(T0, "a", "agent.resolved"))
    assert fold.facts().resolved_by_agent and fold.facts().resolution_s == 0
    fold.add(AgentEventStep(T0 + timedelta(minutes=1), "b", "agent.handed_off", ticket_id="T1", to_team_id="billing"))
    facts = fold.facts()
    assert not facts.resolved_by_agent and facts.handed_off and facts.ticket_id == "T1"
