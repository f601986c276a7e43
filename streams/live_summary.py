"""The live summary of one account for "today" (pure; SPEC §5).

Computed on request from the worker's ticket folds (the sorted steps of each
ticket), ticket properties, SLA clocks, and small logs of calls, feedback and
rep statuses. Every figure is given for today up to `now` and for yesterday
up to the same time (see streams.live_day), with the tickets behind it.

Definitions (local day of the account's time zone, window = day start ->
now, or yesterday's start -> the same time yesterday):
- open_tickets: created and not closed at the end of the window (merged and
  deleted tickets are not open).
- new_tickets: tickets created in the window (merged ones too: they were).
- closed: tickets that entered a closed stage in the window. Merged tickets
  count on their primary for this and every figure below, and each message
  counts once.
- avg_first_response_s: over tickets whose first rep reply is in the window.
- avg_time_to_close_s: over tickets closed in the window, creation -> that close.
- csat: share of CSAT answers in the window in the top two scores of their scale.
- customer_wait_now_s: average wait so far of the customers waiting now
  (today only: "now" has no yesterday).
- messages_received / messages_sent: customer messages / rep replies.
- customer_wait_s / rep_wait_s: average customer-wait / customer-reply
  interval that ended in the window.
- peak_incoming_hour / peak_outgoing_hour: the local hour with the most such
  messages (earliest on a tie).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from statistics import mean
from zoneinfo import ZoneInfo

from streams.live_day import day_bounds, local_date, same_time_yesterday
from streams.sla_clock import RUNNING_STATES, Clock
from streams.ticket_fold import TicketFold
from streams.ticket_state import TicketState

FILTERS = ("team", "rep", "channel", "pipeline", "category")
_PROPERTY_OF_FILTER = {"team": "team_id", "rep": "owner_id", "channel": "channel", "pipeline": "pipeline",
                       "category": "category"}


@dataclass(frozen=True, slots=True)
class Call:
    at: datetime  # when it ended
    rep_id: str
    team_id: str
    outcome: str
    duration_s: float


@dataclass(frozen=True, slots=True)
class Feedback:
    at: datetime
    ticket_id: str
    survey: str
    score: int
    scale: int


@dataclass(frozen=True, slots=True)
class RepStatus:
    at: datetime
    rep_id: str
    team_id: str
    status: str


@dataclass(frozen=True, slots=True)
class Window:
    start: datetime  # the local day's start
    end: datetime  # now (or the same time yesterday); both ends included

    def has(self, at: datetime | None) -> bool:
        return at is not None and self.start <= at <= self.end


@dataclass(slots=True)
class Figure:
    today: float | int | None
    yesterday: float | int | None
    tickets: list[str] = field(default_factory=list)  # behind today's value

    def as_dict(self) -> dict:
        change = None
        if isinstance(self.today, (int, float)) and isinstance(self.yesterday, (int, float)):
            change = round(self.today - self.yesterday, 3)
        return {"today": self.today, "yesterday": self.yesterday, "change": change, "tickets": len(self.tickets)}


def _avg(values: list[float]) -> float | None:
    return round(mean(values), 3) if values else None


def _matches(state: TicketState | None, filters: dict[str, str]) -> bool:
    for name, wanted in filters.items():
        if wanted and (state.get(_PROPERTY_OF_FILTER[name]) if state else "") != wanted:
            return False
    return True


def _open_at(fold: TicketFold, state: TicketState | None, at: datetime) -> bool:
    if fold.merged_into or (state is not None and state.deleted):
        return False
    created = fold.replies.created_at
    if created is None or created > at:
        return False
    closed = False
    for step in fold.replies.history:
        if step.at > at:
            break
        if step.kind == "closed":
            closed = True
        elif step.kind == "opened":
            closed = False
    return not closed


def _ticket_figures(window: Window, tickets, zone: ZoneInfo) -> dict:
    open_ids, closed, new, ttfr, ttc = [], [], [], [], []
    by_channel_new: Counter = Counter()
    by_channel_open: Counter = Counter()
    by_priority_new: Counter = Counter()
    by_priority_open: Counter = Counter()
    received, sent, waits, rep_waits = [], [], [], []
    seen_messages: set[str] = set()
    incoming_hours: Counter = Counter()
    outgoing_hours: Counter = Counter()
    for key, fold, state in tickets:
        r = fold.replies
        channel = state.get("channel") if state else ""
        priority = state.get("priority") if state else ""
        if _open_at(fold, state, window.end):
            open_ids.append(key[1])
            by_channel_open[channel] += 1
            by_priority_open[priority] += 1
        if window.has(r.created_at):
            new.append(key[1])
            by_channel_new[channel] += 1
            by_priority_new[priority] += 1
        for step in r.history:
            # A merged ticket's messages are also on its primary's fold: count each message once.
            if window.has(step.at) and step.kind in ("customer", "rep") and step.event_id not in seen_messages:
                seen_messages.add(step.event_id)
                if step.kind == "customer":
                    received.append(key[1])
                    incoming_hours[step.at.astimezone(zone).hour] += 1
                else:
                    sent.append(key[1])
                    outgoing_hours[step.at.astimezone(zone).hour] += 1
        if fold.merged_into or (state is not None and state.deleted):
            continue  # a merged ticket's history counts on its primary; a deleted one is gone
        if window.has(r.first_response_at) and r.created_at is not None:
            ttfr.append((key[1], (r.first_response_at - r.created_at).total_seconds()))
        for step in r.history:
            if step.kind == "closed" and window.has(step.at) and r.created_at is not None:
                closed.append(key[1])
                ttc.append((step.at - r.created_at).total_seconds())
                break
        for interval in r.intervals:
            if window.has(interval.ended_at):
                seconds = (interval.ended_at - interval.started_at).total_seconds()
                (waits if interval.metric == "customer_wait" else rep_waits).append(seconds)

    def peak(hours: Counter) -> int | None:
        return min(hours, key=lambda h: (-hours[h], h)) if hours else None

    return {
        "open_tickets": (len(open_ids), open_ids),
        "closed": (len(closed), closed),
        "new_tickets": (len(new), new),
        "avg_first_response_s": (_avg([s for _, s in ttfr]), [t for t, _ in ttfr]),
        "avg_time_to_close_s": (_avg(ttc), closed),
        "messages_received": (len(received), sorted(set(received))),
        "messages_sent": (len(sent), sorted(set(sent))),
        "customer_wait_s": (_avg(waits), []),
        "rep_wait_s": (_avg(rep_waits), []),
        "peak_incoming_hour": (peak(incoming_hours), []),
        "peak_outgoing_hour": (peak(outgoing_hours), []),
        "by_hour": {"incoming": [incoming_hours.get(h, 0) for h in range(24)],
                    "outgoing": [outgoing_hours.get(h, 0) for h in range(24)]},
        "by_channel": {"new": dict(by_channel_new), "open": dict(by_channel_open)},
        "by_priority": {"new": dict(by_priority_new), "open": dict(by_priority_open)},
    }


def summary(tickets: Iterable[tuple[tuple[str, str], TicketFold, TicketState | None]],
            clocks: dict[tuple[str, str], list[Clock]], calls: list[Call], feedback: list[Feedback],
            reps: list[RepStatus], timezone: str, now: datetime, filters: dict[str, str] | None = None) -> dict:
    """Every figure of SPEC §5 for today and the same time yesterday."""
    filters = {k: v for k, v in (filters or {}).items() if v}
    zone = ZoneInfo(timezone)
    today_start, _ = day_bounds(local_date(now, zone), zone)
    then = same_time_yesterday(now, zone)
    yesterday_start, _ = day_bounds(local_date(then, zone), zone)
    windows = {"today": Window(today_start, now), "yesterday": Window(yesterday_start, then)}
    chosen = [(k, f, s) for k, f, s in tickets if _matches(s, filters)]
    per = {name: _ticket_figures(w, chosen, zone) for name, w in windows.items()}

    figures: dict[str, Figure] = {}
    for name in ("open_tickets", "closed", "new_tickets", "avg_first_response_s", "avg_time_to_close_s",
                 "messages_received", "messages_sent", "customer_wait_s", "rep_wait_s", "peak_incoming_hour",
                 "peak_outgoing_hour"):
        figures[name] = Figure(per["today"][name][0], per["yesterday"][name][0], per["today"][name][1])

    rep_filter, team_filter = filters.get("rep"), filters.get("team")
    chosen_ids = {k[1] for k, _, _ in chosen}
    for name, window in windows.items():
        answers = [f for f in feedback if f.survey == "csat" and window.has(f.at)
                   and (not filters or f.ticket_id in chosen_ids)]
        happy = [f for f in answers if f.score >= f.scale - 1]
        value = round(len(happy) / len(answers), 4) if answers else None
        if name == "today":
            figures["csat"] = Figure(value, None, sorted({f.ticket_id for f in answers}))
        else:
            figures["csat"].yesterday = value
        mine = [c for c in calls if window.has(c.at) and (not rep_filter or c.rep_id == rep_filter)
                and (not team_filter or c.team_id == team_filter)]
        for figure, value in (("calls_completed", sum(1 for c in mine if c.outcome == "completed")),
                              ("call_duration_s", round(sum(c.duration_s for c in mine), 3)),
                              ("calls_missed", sum(1 for c in mine if c.outcome == "missed"))):
            if name == "today":
                figures[figure] = Figure(value, None)
            else:
                figures[figure].yesterday = value

    # Customers waiting now: today only.
    waiting = [(k[1], (now - f.replies.waiting_since).total_seconds()) for k, f, s in chosen
               if f.replies.waiting_since is not None and _open_at(f, s, now)]
    figures["customer_wait_now_s"] = Figure(_avg([s for _, s in waiting]), None, [t for t, _ in waiting])

    availability = _availability(reps, windows, rep_filter, team_filter)
    sla = _sla(chosen, clocks, windows)
    return {
        "account_timezone": timezone,
        "now": now.isoformat(),
        "today": str(local_date(now, zone)),
        "same_time_yesterday": then.isoformat(),
        "filters": filters,
        "figures": {name: f.as_dict() for name, f in figures.items()},
        "by_channel": per["today"]["by_channel"],
        "by_priority": per["today"]["by_priority"],
        "messages_by_hour": per["today"]["by_hour"],
        "availability": availability,
        "sla": sla,
        "_tickets": {name: f.tickets for name, f in figures.items()},
    }


def _availability(reps: list[RepStatus], windows: dict[str, Window], rep: str | None, team: str | None) -> dict:
    def states_until(end: datetime) -> dict[str, RepStatus]:
        current: dict[str, RepStatus] = {}
        for change in sorted(reps, key=lambda c: c.at):
            if change.at <= end:
                current[change.rep_id] = change
        return {r: c for r, c in current.items() if (not rep or r == rep) and (not team or c.team_id == team)}

    out = {}
    for name, window in windows.items():
        current = states_until(window.end)
        available_now = sum(1 for c in current.values() if c.status == "available")
        peak = available_now
        running = dict(states_until(window.start))
        for change in sorted((c for c in reps if window.has(c.at)), key=lambda c: c.at):
            if (rep and change.rep_id != rep) or (team and change.team_id != team):
                continue
            running[change.rep_id] = change
            peak = max(peak, sum(1 for c in running.values() if c.status == "available"))
        out[name] = {"available": available_now, "max_available": peak}
        if name == "today":
            out["reps"] = {r: c.status for r, c in sorted(current.items())}
    return out


def _sla(tickets, clocks: dict[tuple[str, str], list[Clock]], windows: dict[str, Window]) -> dict:
    metrics = ("first_response", "next_response", "time_to_close")
    out: dict = {}
    for name, window in windows.items():
        counts = {m: dict.fromkeys((*RUNNING_STATES, "completed_on_time", "completed_late"), 0) for m in metrics}
        for key, _, _ in tickets:
            for clock in clocks.get(key, ()):
                if clock.stopped_at is None or clock.stopped_at > window.end:
                    if clock.started_at <= window.end:
                        counts[clock.metric][_running_state(clock, window.end)] += 1
                elif window.has(clock.stopped_at):
                    counts[clock.metric][clock.state(window.end)] += 1
        done = sum(c["completed_on_time"] + c["completed_late"] for c in counts.values())
        met = sum(c["completed_on_time"] for c in counts.values())
        out[name] = {"clocks": counts, "met_share": round(met / done, 4) if done else None}
    return out


def _running_state(clock: Clock, at: datetime) -> str:
    if clock.due_at is not None and at >= clock.due_at:
        return "overdue"
    if clock.due_soon_at is not None and at >= clock.due_soon_at:
        return "due_soon"
    return "active"
