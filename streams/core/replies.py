"""Reply-time metrics of one ticket, incrementally (pure; SPEC §3).

State + event -> new state + facts. Only human replies count: a reply is an
outbound message sent by a rep; bot messages and internal notes are ignored.

- first response: creation -> the first rep reply. A ticket opened by a rep
  (a rep wrote before any customer did) measures from the customer's first
  message to the next rep reply, and has no first response until a customer
  writes. A rep message timed before the ticket's creation (producer clock
  skew) answers nobody and opens nothing: it is ignored.
- simultaneous steps: cause before effect, never by random ids. At the same
  instant the order is creation, reopen, customer message, rep message,
  close: a customer message that reopens a ticket is a wait that counts, a
  reply stamped with the creation is a response, a reply stamped with the
  close is not cut off by it.
- customer wait: a series of customer messages (consecutive, no rep reply in
  between) -> the next rep reply; the clock runs from the first message of
  the series. Series after the first rep reply are the "next response" waits.
- customer reply: a series of rep replies -> the next customer message.
- close / reopen: entering a closed stage closes the ticket; leaving it is a
  reopen. A close discards the series in progress (nobody replies to a closed
  ticket); messages while it is closed run no clock (nor count as a first
  response), and after a reopen the clocks resume with the next message.

Events arriving in time order advance the state in O(1); a late event (older
than the newest one seen) re-folds the ticket's retained history in event
order, so any arrival order within the lateness window gives the same facts.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field, replace
from datetime import datetime

# "created" | "customer" | "rep" | "ignored" | "closed" (status set to a closed
# stage) | "opened" (status set to an open stage: a reopen if it was closed)
Kind = str


# Rank of simultaneous steps (see above); ties within a rank by event id, which is arbitrary but stable.
RANK = {"created": 0, "opened": 1, "customer": 2, "rep": 3, "ignored": 3, "closed": 4}


@dataclass(frozen=True, slots=True)
class Step:
    """What the metrics need of one event, reduced by the caller."""

    at: datetime
    event_id: str
    kind: Kind
    who: str = ""  # sender (rep id or customer id)
    channel: str = ""
    stage: str = ""  # created / closed / opened: the status (stage) the ticket is in from here on

    @property
    def order(self) -> tuple[datetime, int, str]:
        return (self.at, RANK.get(self.kind, 3), self.event_id)


@dataclass(frozen=True, slots=True)
class Interval:
    """One reply interval: who waited, from when to when, answered by whom."""

    metric: str  # "customer_wait" | "customer_reply"
    started_at: datetime
    ended_at: datetime
    waiting: str  # customer for customer_wait, rep for customer_reply
    answered_by: str
    channel: str
    first: bool  # customer_wait: this wait ended with the ticket's first response


@dataclass(frozen=True, slots=True)
class ReplyState:
    created_at: datetime | None = None
    first_response_at: datetime | None = None
    first_responder: str = ""
    closed: bool = False
    closed_at: datetime | None = None
    reopens: int = 0
    # the open series, if any: (kind, started_at, who, channel)
    series: tuple[str, datetime, str, str] | None = None
    intervals: tuple[Interval, ...] = ()
    waits: int = 0  # customer_wait intervals so far
    customer_first_at: datetime | None = None  # the customer's first message (since creation)
    rep_opened: bool = False  # a rep wrote before any customer did
    history: tuple[Step, ...] = field(default=(), repr=False)  # sorted, for late events
    seen: tuple[str, ...] = field(default=(), repr=False)  # event ids in history (a C-speed membership test)
    # snapshots[i]: the state after history[i] (without history): a late step
    # re-folds from where it belongs, not from the start.
    snapshots: tuple[ReplyState, ...] = field(default=(), repr=False)

    @property
    def first_response_from(self) -> datetime | None:
        """Where time to first response starts: creation, or for a rep-opened ticket the customer's first
        message (None while no customer has written)."""
        return self.customer_first_at if self.rep_opened else self.created_at

    @property
    def waiting_since(self) -> datetime | None:
        """When the customer currently waiting started waiting (None if nobody waits)."""
        return self.series[1] if self.series and self.series[0] == "customer" and not self.closed else None


def add_step(state: ReplyState, step: Step) -> ReplyState:
    """Add one step; a step already seen (same event_id) changes nothing."""
    if step.event_id in state.seen:
        return state
    seen = (*state.seen, step.event_id)
    history = state.history
    if not history or step.order >= history[-1].order:
        core = _advance(_core(state), step)
        return _with_history(core, (*history, step), seen, (*state.snapshots, core))
    at = bisect.bisect_right([s.order for s in history], step.order)
    history = (*history[:at], step, *history[at:])
    snapshots = list(state.snapshots[:at])
    core = snapshots[-1] if snapshots else ReplyState()
    for s in history[at:]:
        core = _advance(core, s)
        snapshots.append(core)
    return _with_history(core, history, seen, tuple(snapshots))


def _with_history(core: ReplyState, history: tuple[Step, ...], seen: tuple[str, ...],
                  snapshots: tuple[ReplyState, ...]) -> ReplyState:
    # Built directly: dataclasses.replace costs several times more, once per event.
    return ReplyState(core.created_at, core.first_response_at, core.first_responder, core.closed, core.closed_at,
                      core.reopens, core.series, core.intervals, core.waits, core.customer_first_at, core.rep_opened,
                      history, seen, snapshots)


def _core(state: ReplyState) -> ReplyState:
    return state.snapshots[-1] if state.snapshots else ReplyState()


def _advance(state: ReplyState, step: Step) -> ReplyState:
    kind = step.kind
    if kind == "created":
        return replace(state, created_at=step.at if state.created_at is None else min(state.created_at, step.at))
    if kind == "closed":
        if state.closed:
            return state
        return replace(state, closed=True, closed_at=step.at, series=None)
    if kind == "opened":
        if not state.closed:
            return state
        return replace(state, closed=False, closed_at=None, reopens=state.reopens + 1, series=None)
    if kind not in ("customer", "rep") or state.closed:
        # Messages on a closed ticket run no clock: "after a reopen, reply
        # clocks resume with the next message sent or received".
        return state
    if kind == "rep" and state.created_at is None:
        return state  # timed before the creation (clock skew): answers nobody, opens nothing
    customer_first_at, rep_opened = state.customer_first_at, state.rep_opened
    if kind == "customer" and customer_first_at is None:
        customer_first_at = step.at
    series = state.series
    if series is not None and series[0] == kind:
        if customer_first_at is not state.customer_first_at:
            return replace(state, customer_first_at=customer_first_at)
        return state  # the series goes on; its clock keeps running from its first message
    intervals, waits = state.intervals, state.waits
    first_response_at, first_responder = state.first_response_at, state.first_responder
    if kind == "rep" and first_response_at is None:
        if customer_first_at is None:
            rep_opened = True  # the rep opened the ticket: its first response answers the customer's first message
        else:
            first_response_at, first_responder = step.at, step.who
    if series is not None:  # the other side answered the series in progress
        opened_by, started_at, waiting, channel = series
        if opened_by == "customer":
            first = waits == 0 and first_response_at == step.at
            intervals = (*intervals, Interval("customer_wait", started_at, step.at, waiting, step.who, channel, first))
            waits += 1
        else:
            intervals = (*intervals, Interval("customer_reply", started_at, step.at, waiting, step.who, channel, False))
    # Built directly: dataclasses.replace costs several times more, once per message.
    return ReplyState(state.created_at, first_response_at, first_responder, state.closed, state.closed_at,
                      state.reopens, (kind, step.at, step.who, step.channel), intervals, waits, customer_first_at,
                      rep_opened)
