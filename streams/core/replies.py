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

Events arriving in time order advance the state in O(1) (the history is
appended in place, see _Log); a late event (older than the newest one seen)
re-folds the ticket's retained history from its own position (or, when it
changes nothing where it lands, only moves the states kept after it), so
any arrival order within the lateness window gives the same facts.
"""

from __future__ import annotations

import bisect
from dataclasses import field
from datetime import datetime
from operator import attrgetter

from streams.core.immutable import immutable

# "created" | "customer" | "rep" | "ignored" | "closed" (status set to a closed
# stage) | "opened" (status set to an open stage: a reopen if it was closed)
Kind = str


# Rank of simultaneous steps (see above); ties within a rank by event id, which is arbitrary but stable.
RANK = {"created": 0, "opened": 1, "customer": 2, "rep": 3, "ignored": 3, "closed": 4}


@immutable
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


@immutable
class Interval:
    """One reply interval: who waited, from when to when, answered by whom."""

    metric: str  # "customer_wait" | "customer_reply"
    started_at: datetime
    ended_at: datetime
    waiting: str  # customer for customer_wait, rep for customer_reply
    answered_by: str
    channel: str
    first: bool  # customer_wait: this wait ended with the ticket's first response


# A late step re-folds from the newest state kept at or before its position: one every MARK_EVERY steps, not
# one per step. A state per step was most of what the garbage collector walked (its twelve references per
# state: 2.6 of 7.6 million edges over `make bench`'s tickets) to save a late step at most 7 re-folded steps.
MARK_EVERY = 8


class _Log:
    """A ticket's retained history, appended in place: the per-event cost stays constant however long the
    ticket lives (copying tuples per event made 16,000 messages on one ticket take 14 s and 1 GB).

    history[i] is the i-th step in order; marks[j] the state after the first marked[j] steps (marks[0] the
    empty state; marks hold no log, so the log and its states make no reference cycle), about every
    MARK_EVERY steps and never more than 2 * MARK_EVERY apart; intervals the reply intervals in fold order (a
    state sees the first `n_intervals` of them). The state after every step is the one `add_step` returns,
    which holds this log.
    """

    __slots__ = ("history", "stages", "seen", "marks", "marked", "intervals")

    def __init__(self) -> None:
        self.history: list[Step] = []
        self.stages: list[Step] = []  # the steps of history that set a stage, in the same order
        self.seen: set[str] = set()
        self.marks: list[ReplyState] = [_EMPTY]
        self.marked: list[int] = [0]
        self.intervals: list[Interval] = []


@immutable
class ReplyState:
    """The metrics of one ticket after some steps.

    The state a fold returns shares its log with the state it was built from: keep the newest one (as
    `TicketFold` does) and add the next step to it; an older one's history views reflect later steps.
    """

    created_at: datetime | None = None
    first_response_at: datetime | None = None
    first_responder: str = ""
    closed: bool = False
    closed_at: datetime | None = None
    reopens: int = 0
    # the open series, if any: (kind, started_at, who, channel)
    series: tuple[str, datetime, str, str] | None = None
    n_intervals: int = 0  # reply intervals so far (the first n of the log's)
    waits: int = 0  # customer_wait intervals so far
    customer_first_at: datetime | None = None  # the customer's first message (since creation)
    rep_opened: bool = False  # a rep wrote before any customer did
    log: _Log | None = field(default=None, repr=False, compare=False)

    @property
    def history(self) -> list[Step]:
        """Every step in order (read only)."""
        return self.log.history if self.log is not None else []

    @property
    def stage_steps(self) -> list[Step]:
        """The steps that set a stage (creation, status changes), in order (read only)."""
        return self.log.stages if self.log is not None else []

    @property
    def seen(self) -> set[str]:
        return self.log.seen if self.log is not None else set()

    @property
    def intervals(self) -> tuple[Interval, ...]:
        return tuple(self.log.intervals[: self.n_intervals]) if self.log is not None else ()

    @property
    def last_at(self) -> datetime | None:
        """The time of the newest step."""
        return self.log.history[-1].at if self.log is not None and self.log.history else None

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
    """Add one step to the newest state; a step already seen (same event_id) changes nothing.

    In order: O(1), and the same state object back when the step changes no metric (a series goes on, a bot
    message, a redelivery); a late step as `_add_late` says.
    """
    log = state.log
    if log is None:
        log, state = _Log(), _EMPTY
    elif step.event_id in log.seen:
        return state
    log.seen.add(step.event_id)
    history = log.history
    # In order unless it is older than the newest step; the order tuples are built only for a tie in time.
    if not history or step.at > history[-1].at or (step.at == history[-1].at and step.order >= history[-1].order):
        history.append(step)
        if step.stage:
            log.stages.append(step)
        core = _advance(state, step, log.intervals)
        if len(history) - log.marked[-1] >= MARK_EVERY:
            log.marks.append(_with_log(core, None))
            log.marked.append(len(history))
        return core if core.log is log else _with_log(core, log)
    return _add_late(state, log, step)


def _add_late(state: ReplyState, log: _Log, step: Step) -> ReplyState:
    """A step older than the newest: folded from the mark before its place. Most late steps change nothing
    there (a status change that leaves the ticket open, a message of a series already waiting): the steps after
    it then fold as before, so only the marks after it move; `make bench` read a ticket's two topics out of step
    and re-folded 960,000 steps for 130,000 late ones. Otherwise the ticket re-folds from there on."""
    history, marks, marked = log.history, log.marks, log.marked
    at = _place(history, step)
    history.insert(at, step)
    if step.stage:
        log.stages.insert(_place(log.stages, step), step)
    j = bisect.bisect_right(marked, at) - 1  # marks[j]: after steps that all come before the late one
    core = marks[j]
    made: list[Interval] = []  # intervals the steps before it make, kept aside until it is known to change
    new_marks: list[tuple[int, ReplyState]] = []
    last = marked[j]
    for n in range(marked[j], at):
        core = _advance(core, history[n], made)
        if n + 1 - last >= MARK_EVERY:
            last = n + 1
            new_marks.append((last, core))
    after = _advance(core, step, made)
    if after is core:  # changes nothing: every later state stands, each a step further on
        for k in range(j + 1, len(marked)):
            marked[k] += 1
        if (marked[j + 1] if j + 1 < len(marked) else len(history)) - marked[j] > 2 * MARK_EVERY:
            marks.insert(j + 1, core)  # keeps a late step's fold up to its place short, however many come
            marked.insert(j + 1, at + 1)
        return state
    del marks[j + 1:], marked[j + 1:]
    del log.intervals[marks[j].n_intervals:]
    log.intervals.extend(made)
    for n, mark in new_marks:
        marks.append(mark)
        marked.append(n)
    core = after
    for n in range(at + 1, len(history) + 1):
        if n - marked[-1] >= MARK_EVERY:
            marks.append(core)
            marked.append(n)
        if n < len(history):
            core = _advance(core, history[n], log.intervals)
    return _with_log(core, log)


def _place(steps: list[Step], step: Step) -> int:
    """Where `step` goes in `steps` (in order): after every step up to its order. Found by time, and only within
    its instant by the order tuples: built per probe, they were a fifth of a late step's cost in the worker, where
    a ticket's messages and status changes come from two topics and often meet out of order."""
    at = step.at
    i = bisect.bisect_right(steps, at, key=_AT)
    if i and steps[i - 1].at == at:
        order = step.order
        while i and steps[i - 1].at == at and steps[i - 1].order > order:
            i -= 1
    return i


def _with_log(core: ReplyState, log: _Log | None) -> ReplyState:
    # Built directly: dataclasses.replace costs several times more, once per event.
    return ReplyState(core.created_at, core.first_response_at, core.first_responder, core.closed, core.closed_at,
                      core.reopens, core.series, core.n_intervals, core.waits, core.customer_first_at,
                      core.rep_opened, log)


def _advance(state: ReplyState, step: Step, intervals: list[Interval]) -> ReplyState:
    """The state after one more step; appends a reply interval it closes to `intervals`. The new state holds
    the log the old one held."""
    # States are built directly, not with dataclasses.replace: it costs several times more, once per ticket.
    kind = step.kind
    if kind == "created":
        created_at = step.at if state.created_at is None else min(state.created_at, step.at)
        return ReplyState(created_at, state.first_response_at, state.first_responder, state.closed,
                          state.closed_at, state.reopens, state.series, state.n_intervals, state.waits,
                          state.customer_first_at, state.rep_opened, state.log)
    if kind == "closed":
        if state.closed:
            return state
        return ReplyState(state.created_at, state.first_response_at, state.first_responder, True, step.at,
                          state.reopens, None, state.n_intervals, state.waits, state.customer_first_at,
                          state.rep_opened, state.log)
    if kind == "opened":
        if not state.closed:
            return state
        return ReplyState(state.created_at, state.first_response_at, state.first_responder, False, None,
                          state.reopens + 1, None, state.n_intervals, state.waits, state.customer_first_at,
                          state.rep_opened, state.log)
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
            return ReplyState(state.created_at, state.first_response_at, state.first_responder, state.closed,
                              state.closed_at, state.reopens, series, state.n_intervals, state.waits,
                              customer_first_at, state.rep_opened, state.log)
        return state  # the series goes on; its clock keeps running from its first message
    n_intervals, waits = state.n_intervals, state.waits
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
            intervals.append(Interval("customer_wait", started_at, step.at, waiting, step.who, channel, first))
            waits += 1
        else:
            intervals.append(Interval("customer_reply", started_at, step.at, waiting, step.who, channel, False))
        n_intervals += 1
    return ReplyState(state.created_at, first_response_at, first_responder, state.closed, state.closed_at,
                      state.reopens, (kind, step.at, step.who, step.channel), n_intervals, waits, customer_first_at,
                      rep_opened, state.log)


_EMPTY = ReplyState()
_AT = attrgetter("at")
