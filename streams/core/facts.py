"""A ticket's facts: every duration 24/7 and in SLA hours, stages, clocks (pure; SPEC §3-4).

"SLA hours" are the working time of the calendar the ticket's SLA runs on
(the team's calendar, or the policy's; 24/7 when the policy is 24/7 or none
is configured).
"""

from __future__ import annotations

from datetime import datetime

from streams.core.business_time import WorkCalendar
from streams.core.folds import TicketFold
from streams.core.immutable import immutable
from streams.core.replies import Interval
from streams.core.sla_clocks import Clock, Targets, ticket_clocks
from streams.core.stages import StageSpan, stage_spans


@immutable
class Duration:
    seconds: float  # 24/7
    sla_seconds: float  # working time of the SLA calendar


def duration(calendar: WorkCalendar, start: datetime | None, end: datetime | None) -> Duration | None:
    if start is None or end is None or end < start:
        return None
    return Duration((end - start).total_seconds(), calendar.working_seconds(start, end))


@immutable
class TicketFacts:
    created_at: datetime | None
    first_response_at: datetime | None
    first_responder: str
    time_to_first_response: Duration | None
    closed_at: datetime | None  # the final close; None while open
    time_to_close: Duration | None
    reopens: int
    waiting_since: datetime | None
    merged_into: str
    stages: list[tuple[StageSpan, Duration | None]]  # duration only once the ticket has left the stage
    intervals: list[tuple[Interval, Duration]]
    clocks: list[Clock]


def ticket_facts(fold: TicketFold, targets: Targets | None, calendar: WorkCalendar) -> TicketFacts:
    r = fold.replies
    closed_at = r.closed_at if r.closed else None
    merged = bool(fold.merged_into)
    return TicketFacts(
        created_at=r.created_at,
        first_response_at=r.first_response_at,
        first_responder=r.first_responder,
        time_to_first_response=duration(calendar, r.first_response_from, r.first_response_at),
        closed_at=closed_at,
        time_to_close=duration(calendar, r.created_at, closed_at),
        reopens=r.reopens,
        waiting_since=None if merged else r.waiting_since,
        merged_into=fold.merged_into,
        stages=[(span, duration(calendar, span.entered_at, span.left_at)) for span in stage_spans(r.stage_steps)],
        intervals=[(i, duration(calendar, i.started_at, i.ended_at)) for i in r.intervals],  # type: ignore[misc]
        clocks=[] if merged else ticket_clocks(r, targets, calendar),
    )
