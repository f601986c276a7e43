"""What the metrics keep of one ticket, and how events become its steps (pure).

A ticket's fold is its reply-metrics state (which retains the sorted steps,
so stage times and late events need nothing else) plus merge links. Merged
tickets (SPEC §3): the merged ticket's messages count on the primary, also
those that arrive after the merge, and the merged ticket has no clocks.
"""

from __future__ import annotations

from dataclasses import dataclass

from streams.ticket_metrics import ReplyState, Step, apply

MESSAGE_KINDS = frozenset({"customer", "rep", "ignored"})


@dataclass(slots=True)
class TicketFold:
    replies: ReplyState = ReplyState()
    merged_into: str = ""  # set on a ticket that was merged into another

    def add(self, step: Step) -> None:
        self.replies = apply(self.replies, step)

    def message_steps(self) -> list[Step]:
        return [s for s in self.replies.history if s.kind in MESSAGE_KINDS]


def message_step(direction: str, sender_type: str, at, event_id: str, sender_id: str, channel: str) -> Step:
    """A message as the metrics see it: bot messages and internal notes are never a human response."""
    if direction == "inbound":
        kind = "customer"
    elif direction == "outbound" and sender_type == "rep":
        kind = "rep"
    else:
        kind = "ignored"
    return Step(at, event_id, kind, sender_id, channel)


def ticket_step(kind: str, at, event_id: str, status: str | None, closed: bool) -> Step | None:
    """A ticket event as a step: its creation, or a status change (`closed`: into a closed stage)."""
    if kind == "ticket.created":
        return Step(at, event_id, "created", stage=status or "")
    if kind == "ticket.updated" and status:
        return Step(at, event_id, "closed" if closed else "opened", stage=status)
    return None
