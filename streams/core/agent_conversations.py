"""Per-conversation facts of the customer AI agent (issue 9, SPEC §7), pure.

A conversation's events arrive in any order and may repeat; the fold keeps
only what the facts need (earliest, latest, flags), so any arrival order of
the same events gives the same facts. Definitions (docs/metrics.md will
carry them when the worker writes these facts):

- started_at: the earliest event of the conversation (its start event may
  be missing or late);
- handled: the agent took part (answered, could not answer, resolved or
  handed off);
- handed_off: a handoff happened; the earliest one names the ticket, rep and
  team and its time is handed_off_at;
- resolved_by_agent: the agent resolved it and it was never handed off
  (a handoff after a resolution means a human was needed after all);
- closed_at: the latest close, unless the agent or the visitor did anything
  after it (a conversation that continues after a close is open again);
- deflected: the agent took part and it closed with no handoff (no human
  involved);
- resolved_at, resolution_s: resolved_by_agent: the earliest resolution and
  the time from started_at to it;
- helpful: the latest feedback (ties: the later event id), None without one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

AGENT_ACTS = frozenset({"agent.answered", "agent.unanswered", "agent.resolved", "agent.handed_off"})


@dataclass(frozen=True, slots=True)
class AgentEventStep:
    """What the facts need of one agent event."""

    at: datetime
    event_id: str
    kind: str  # the event type
    channel: str = ""  # agent.conversation_started
    ticket_id: str = ""  # agent.handed_off
    to_rep_id: str = ""
    to_team_id: str = ""
    helpful: bool | None = None  # agent.feedback


@dataclass(frozen=True, slots=True)
class ConversationFacts:
    started_at: datetime
    channel: str
    handled: bool
    handed_off: bool
    handed_off_at: datetime | None
    ticket_id: str
    to_rep_id: str
    to_team_id: str
    resolved_by_agent: bool
    resolved_at: datetime | None
    closed_at: datetime | None
    deflected: bool
    resolution_s: float | None
    helpful: bool | None


@dataclass
class ConversationFold:
    seen: set[str] = field(default_factory=set)
    first: tuple[datetime, str] | None = None
    start: tuple[datetime, str, str] | None = None  # earliest conversation_started: (at, event_id, channel)
    handled: bool = False
    handoff: AgentEventStep | None = None
    resolved: datetime | None = None
    closed: tuple[datetime, str] | None = None
    last_activity: tuple[datetime, str] | None = None  # the latest event that is not a close
    feedback: tuple[datetime, str, bool] | None = None

    def add(self, step: AgentEventStep) -> bool:
        """False: a repeat of an event already folded (nothing changes)."""
        if step.event_id in self.seen:
            return False
        self.seen.add(step.event_id)
        key = (step.at, step.event_id)
        self.first = min(self.first, key) if self.first else key
        if step.kind == "agent.conversation_started" and (self.start is None or key < self.start[:2]):
            self.start = (step.at, step.event_id, step.channel)
        if step.kind in AGENT_ACTS:
            self.handled = True
        if step.kind == "agent.handed_off" and (self.handoff is None or key < (self.handoff.at, self.handoff.event_id)):
            self.handoff = step
        if step.kind == "agent.resolved" and (self.resolved is None or step.at < self.resolved):
            self.resolved = step.at
        if step.kind == "agent.conversation_closed":
            self.closed = max(self.closed, key) if self.closed else key
        else:
            self.last_activity = max(self.last_activity, key) if self.last_activity else key
        if step.kind == "agent.feedback" and step.helpful is not None:
            candidate = (step.at, step.event_id, step.helpful)
            if self.feedback is None or candidate[:2] > self.feedback[:2]:
                self.feedback = candidate
        return True

    def facts(self) -> ConversationFacts | None:
        """None before any event."""
        if self.first is None:
            return None
        started = self.first[0]
        closed_at = None
        if self.closed is not None and (self.last_activity is None or self.last_activity < self.closed):
            closed_at = self.closed[0]
        handoff = self.handoff
        resolved_by_agent = self.resolved is not None and handoff is None
        return ConversationFacts(
            started_at=started, channel=self.start[2] if self.start else "chat", handled=self.handled,
            handed_off=handoff is not None, handed_off_at=handoff.at if handoff else None,
            ticket_id=handoff.ticket_id if handoff else "", to_rep_id=handoff.to_rep_id if handoff else "",
            to_team_id=handoff.to_team_id if handoff else "", resolved_by_agent=resolved_by_agent,
            resolved_at=self.resolved if resolved_by_agent else None,
            closed_at=closed_at, deflected=self.handled and closed_at is not None and handoff is None,
            resolution_s=(self.resolved - started).total_seconds() if resolved_by_agent and self.resolved else None,
            helpful=self.feedback[2] if self.feedback else None)
