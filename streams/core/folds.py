"""Ticket folds: what the metrics keep of each ticket, and how events become its steps (pure).

A ticket's fold is its reply-metrics state (which retains the sorted steps,
so stage times and late events need nothing else) plus merge links. Merged
tickets (SPEC §3): the merged ticket's messages count on the primary, also
those that arrive after the merge, and the merged ticket has no clocks.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from streams.core.replies import ReplyState, Step, add_step

Key = tuple[str, str]  # (account_id, ticket_id)
# Steps (messages and status changes) one ticket keeps: its memory and its facts row stay bounded however long
# it lives (a mail loop, or 131k close/reopen flips). Zendesk stops a ticket at 5,000 comments for the same reason.
MAX_TICKET_STEPS = 10_000
MESSAGE_KINDS = frozenset({"customer", "rep", "ignored"})


@dataclass(slots=True)
class TicketFold:
    replies: ReplyState = ReplyState()
    merged_into: str = ""  # set on a ticket that was merged into another

    def add(self, step: Step) -> None:
        self.replies = add_step(self.replies, step)

    def message_steps(self) -> list[Step]:
        return [s for s in self.replies.history if s.kind in MESSAGE_KINDS]


def _full(fold: TicketFold, step: Step) -> bool:
    log = fold.replies.log
    return log is not None and len(log.history) >= MAX_TICKET_STEPS and step.event_id not in log.seen


def _add_within_cap(fold: TicketFold, steps: list[Step]) -> None:
    """Messages counted on another ticket (a primary): what does not fit under its cap is left out there."""
    for step in steps:
        if not _full(fold, step):
            fold.add(step)


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


# --- every ticket a worker owns ---------------------------------------------
# Tickets and messages are both keyed by ticket_id with equal partition
# counts, and range assignment gives partition i of both to one worker, so a
# ticket's whole history meets here. Every change marks the ticket touched;
# the worker writes the facts of touched tickets once per flush.


class TicketFolds:
    def __init__(self) -> None:
        self.partitions: dict[int, dict[Key, TicketFold]] = {}
        self.touched: dict[Key, int] = {}  # key -> partition
        # Merges whose merged ticket has no fold here yet (its partition is consumed behind the merge's, or
        # another worker owns it): merged key -> primary id, applied when its fold is created.
        self.pending_merges: dict[Key, str] = {}

    def __len__(self) -> int:
        return sum(len(p) for p in self.partitions.values())

    def get(self, key: Key) -> tuple[int, TicketFold] | None:
        for partition, folds in self.partitions.items():
            fold = folds.get(key)
            if fold is not None:
                return partition, fold
        return None

    def _fold(self, partition: int, key: Key) -> TicketFold:
        folds = self.partitions.get(partition)
        if folds is None:
            folds = self.partitions[partition] = {}
        fold = folds.get(key)
        if fold is None:
            fold = folds[key] = TicketFold()
            primary = self.pending_merges.pop(key, None)
            if primary is not None:
                fold.merged_into = primary  # its messages from now on count on the primary
                self.touched[key] = partition
        return fold

    def add(self, partition: int, key: Key, step: Step) -> bool:
        """A step of this ticket; a merged ticket's messages also count on its primary.

        False: refused, the ticket holds MAX_TICKET_STEPS already (the caller dead-letters the event).
        """
        fold = self._fold(partition, key)
        if _full(fold, step):
            return False
        before = fold.replies
        fold.add(step)
        # A step that leaves the metrics as they were (a series goes on, a
        # bot message, a redelivery) changes no fact: no new facts row.
        if step.stage or fold.replies is not before:
            self.touched[key] = partition
        if fold.merged_into and step.kind in MESSAGE_KINDS:
            self._count_upward(key[0], key[1], [step])
        return True

    def _count_upward(self, account_id: str, ticket: str, steps: list[Step]) -> None:
        """Messages of `ticket` also count on its primary, the primary's primary, and so on: merges chain
        (X into M, then M into P: X's messages count on P, whichever of the two merges is consumed first)."""
        seen = {ticket}
        found = self.get((account_id, ticket))
        while found is not None and found[1].merged_into and found[1].merged_into not in seen:
            ticket = found[1].merged_into
            seen.add(ticket)
            found = self.get((account_id, ticket))
            if found is None:
                return
            _add_within_cap(found[1], steps)
            self.touched[(account_id, ticket)] = found[0]

    def merge(self, partition: int, account_id: str, primary: str, merged: str,
              merged_steps: list[Step] | None = None) -> bool:
        """`merged` is folded into `primary`: its messages so far count on the primary.

        `merged_steps` are the merged ticket's messages when its fold is not
        here (another worker owns its partition; read from ClickHouse). A merge
        that would close a cycle (B into A after A into B) is refused (False):
        the first merge wins, and neither ticket vanishes. The caller
        dead-letters the refused merge, so the stored merges, which the
        reports follow, are the ones applied here.
        """
        if self._merged_into_chain(account_id, primary, merged):
            return False
        target = self._fold(partition, (account_id, primary))
        found = self.get((account_id, merged))
        if found is not None:
            found[1].merged_into = primary
            self.touched[(account_id, merged)] = found[0]
            merged_steps = found[1].message_steps()
        else:
            self.pending_merges[(account_id, merged)] = primary
        _add_within_cap(target, merged_steps or [])
        self.touched[(account_id, primary)] = partition
        if target.merged_into and merged_steps:
            self._count_upward(account_id, primary, merged_steps)
        return True

    def _merged_into_chain(self, account_id: str, ticket: str, target: str) -> bool:
        """Whether `ticket` is (through any chain of merges, applied or pending) merged into `target`."""
        seen = set()
        while ticket not in seen:
            seen.add(ticket)
            found = self.get((account_id, ticket))
            into = found[1].merged_into if found is not None else ""
            into = into or self.pending_merges.get((account_id, ticket), "")
            if not into:
                return False
            ticket = into
            if ticket == target:
                return True
        return True  # already a cycle: do not add to it

    def forget(self, partition: int) -> None:
        self.partitions.pop(partition, None)
        for key in [k for k, p in self.touched.items() if p == partition]:
            del self.touched[key]

    def touch_again(self, keys: Iterable[Key]) -> None:
        """Tickets whose stored events came again (a redelivery after a crash) and the primaries they are merged
        into: their facts are stated again, as the facts row of a ticket whose offsets were committed behind it
        may not have been written (the worker's coalescing window)."""
        for account_id, ticket in keys:
            seen: set[str] = set()
            while ticket and ticket not in seen:
                seen.add(ticket)
                found = self.get((account_id, ticket))
                if found is None:
                    break
                self.touched[(account_id, ticket)] = found[0]
                ticket = found[1].merged_into

    def take_touched(self) -> dict[Key, int]:
        touched, self.touched = self.touched, {}
        return touched
