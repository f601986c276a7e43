"""SLA clocks of one ticket, and their state at a wall-clock instant (pure; SPEC §4).

Clocks are derived, never stored as running counters: from the ticket's
reply state, its current properties and the account's policy. So changing
the priority or team re-targets every running clock at once, and the state
at any instant follows from comparing that instant with the due times.

- first_response: creation -> the first rep reply (or the first close, if the
  ticket is closed before anyone replied). A rep-opened ticket's clock starts
  at the customer's first message (none before a customer writes).
- next_response: one clock per customer wait after the first response, from
  the first message of the series to the rep reply; a series that a close
  ends has no clock (the ticket's time to close covers it).
- time_to_close: creation -> the close; a reopen sets it running again and
  the final close counts.

In working-hours policies a target is working time of the ticket's SLA
calendar: due = calendar.add(start, target); due soon = calendar.add(start,
target - due_soon). In 24/7 policies the calendar is 24/7.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from streams.core.business_time import WorkCalendar
from streams.core.immutable import immutable
from streams.core.replies import ReplyState

ClockState = Literal["active", "due_soon", "overdue", "completed_on_time", "completed_late"]
RUNNING_STATES = ("active", "due_soon", "overdue")
# Transitions that raise an alert, by the state entered.
ALERTING = ("due_soon", "overdue", "completed_late")


@dataclass(frozen=True, slots=True)
class Targets:
    """Seconds of (SLA-calendar) time allowed per metric; None: no target."""

    first_response: float | None = None
    next_response: float | None = None
    time_to_close: float | None = None
    due_soon: float | None = None  # warn this long before the due time


@immutable
class Clock:
    metric: str
    started_at: datetime
    stopped_at: datetime | None
    target_s: float
    due_at: datetime | None  # None: the calendar never reaches the target
    due_soon_at: datetime | None

    @property
    def key(self) -> str:
        """Stable identity within the ticket (next_response clocks are told apart by their start)."""
        if self.metric == "next_response":
            return f"next_response@{self.started_at.isoformat(timespec='milliseconds')}"
        return self.metric

    def state(self, now: datetime) -> ClockState:
        if self.stopped_at is not None:
            late = self.due_at is not None and self.stopped_at > self.due_at
            return "completed_late" if late else "completed_on_time"
        return self.running_state(now)

    def running_state(self, at: datetime) -> ClockState:
        """The state at `at` as if the clock were still running then (also before it stopped)."""
        if self.due_at is not None and at >= self.due_at:
            return "overdue"
        if self.due_soon_at is not None and at >= self.due_soon_at:
            return "due_soon"
        return "active"

    def entered_at(self, state: ClockState) -> datetime | None:
        """When the clock entered `state` (the alert's threshold)."""
        if state == "due_soon":
            return self.due_soon_at
        if state == "overdue":
            return self.due_at
        if state == "completed_late":
            return self.stopped_at
        return None


def _clock(metric: str, start: datetime, stop: datetime | None, target: float, due_soon: float | None,
           calendar: WorkCalendar) -> Clock:
    due_soon_at = None
    if due_soon is not None and 0 < due_soon < target:
        due_soon_at = calendar.add(start, target - due_soon)
    return Clock(metric, start, stop, target, calendar.add(start, target), due_soon_at)


def ticket_clocks(replies: ReplyState, targets: Targets | None, calendar: WorkCalendar) -> list[Clock]:
    """Every SLA clock of a ticket, running or completed."""
    created = replies.created_at
    if targets is None or created is None:
        return []
    clocks = []
    start = replies.first_response_from
    if targets.first_response is not None and start is not None:
        stop = replies.first_response_at
        first_close = _first_close(replies, start)
        if first_close is not None and (stop is None or first_close < stop):
            stop = first_close
        clocks.append(_clock("first_response", start, stop, targets.first_response, targets.due_soon, calendar))
    if targets.next_response is not None:
        for interval in replies.intervals:
            if interval.metric == "customer_wait" and not interval.first:
                clocks.append(_clock("next_response", interval.started_at, interval.ended_at,
                                     targets.next_response, targets.due_soon, calendar))
        since = replies.waiting_since
        if since is not None and replies.first_response_at is not None and since >= replies.first_response_at:
            clocks.append(_clock("next_response", since, None, targets.next_response, targets.due_soon, calendar))
    if targets.time_to_close is not None:
        clocks.append(_clock("time_to_close", created, replies.closed_at if replies.closed else None,
                             targets.time_to_close, targets.due_soon, calendar))
    return clocks


def _first_close(replies: ReplyState, since: datetime) -> datetime | None:
    for step in replies.history:
        if step.kind == "closed" and step.at >= since:
            return step.at
    return None


def alerts_due(clocks: list[Clock], now: datetime) -> list[tuple[Clock, ClockState, datetime]]:
    """(clock, state, threshold) for every clock now in an alerting state.

    Only the current state alerts: a clock found already overdue (the worker
    was down when it became due soon) raises "overdue", not both.
    """
    due = []
    for clock in clocks:
        state = clock.state(now)
        if state in ALERTING:
            threshold = clock.entered_at(state)
            if threshold is not None:
                due.append((clock, state, threshold))
    return due
