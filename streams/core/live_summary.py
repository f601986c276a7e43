"""The live summary of one account for "today" (pure; SPEC §5).

The definition, from the worker's ticket folds (the sorted steps of each
ticket), ticket properties, SLA clocks, and small logs of calls, feedback and
rep statuses; the worker answers from streams.core.live_index, which gives
the same figures from marks kept as tickets change. Every figure is given for today up to `now` and for yesterday
up to the same time (see streams.core.live_day), with the tickets behind it.

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
from datetime import datetime, timedelta
from math import fsum
from zoneinfo import ZoneInfo

from typing_extensions import TypedDict  # pydantic validates peers against it (3.11 needs this one)

from streams.core.folds import TicketFold
from streams.core.live_day import day_bounds, local_date, same_time_yesterday
from streams.core.sla_clocks import RUNNING_STATES, Clock
from streams.core.ticket_properties import TicketState

FILTERS = ("team", "rep", "channel", "pipeline", "category")
_MICROSECOND = timedelta(microseconds=1)
ATTENTION_SHOWN = 50  # rows of the attention list an answer shows
# A running clock that needs attention, as it sorts where shown (overdue first, then the soonest due):
# (not overdue, due time, ticket, metric, overdue|due_soon)
AttentionRow = tuple[bool, datetime, str, str, str]
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
    # fsum is exact and one division rounds once: statistics.mean's answer to the millisecond, at a tenth of
    # its cost (it took 7 % of a big account's answer)
    return round(fsum(values) / len(values), 3) if values else None


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
    open_by_rep: Counter = Counter()
    received: Counter = Counter()
    sent: Counter = Counter()
    waits, rep_waits = total(), total()
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
            open_by_rep[state.get("owner_id") if state else ""] += 1
        if window.has(r.created_at):
            new.append(key[1])
            by_channel_new[channel] += 1
            by_priority_new[priority] += 1
        for step in r.history:
            # A merged ticket's messages are also on its primary's fold: count each message once.
            if window.has(step.at) and step.kind in ("customer", "rep") and step.event_id not in seen_messages:
                seen_messages.add(step.event_id)
                if step.kind == "customer":
                    received[key[1]] += 1
                    incoming_hours[step.at.astimezone(zone).hour] += 1
                else:
                    sent[key[1]] += 1
                    outgoing_hours[step.at.astimezone(zone).hour] += 1
        if fold.merged_into or (state is not None and state.deleted):
            continue  # a merged ticket's history counts on its primary; a deleted one is gone
        start = r.first_response_from
        if window.has(r.first_response_at) and start is not None:
            ttfr.append((key[1], (r.first_response_at - start).total_seconds()))
        for step in r.history:
            if step.kind == "closed" and window.has(step.at) and r.created_at is not None:
                closed.append(key[1])
                ttc.append((step.at - r.created_at).total_seconds())
                break
        for interval in r.intervals:
            if window.has(interval.ended_at):
                add(waits if interval.metric == "customer_wait" else rep_waits,
                    micros(interval.ended_at - interval.started_at))

    return {
        "open_tickets": open_ids, "closed": closed, "new_tickets": new, "ttfr": ttfr, "ttc": ttc,
        "messages_received": dict(received), "messages_sent": dict(sent), "waits": waits, "rep_waits": rep_waits,
        "incoming_hours": dict(incoming_hours), "outgoing_hours": dict(outgoing_hours),
        "by_channel_new": dict(by_channel_new), "by_channel_open": dict(by_channel_open),
        "by_priority_new": dict(by_priority_new), "by_priority_open": dict(by_priority_open),
        "open_by_rep": dict(open_by_rep),
    }


class Total(TypedDict):
    """A count of durations and their sum in whole microseconds: exact, so shares add up in any order."""

    n: int
    us: int


def total() -> Total:
    return {"n": 0, "us": 0}


def add(into: Total, us: int) -> None:
    into["n"] += 1
    into["us"] += us


def micros(span: timedelta) -> int:
    return span // _MICROSECOND


def average_s(of: Total) -> float | None:
    """The mean in seconds to the millisecond: one correctly rounded division of exact integers."""
    return round(of["us"] / (of["n"] * 1_000_000), 3) if of["n"] else None


class WindowPart(TypedDict):
    """One worker's share of one window (today or yesterday so far).

    Its size is bounded by the tickets, never by the messages: a message is counted on its ticket, a reply
    interval added to a total. Lists hold ticket ids (one per ticket) or the logs' entries; dicts of counts
    (and totals) add up when shares merge.
    """

    open_tickets: list[str]
    closed: list[str]
    new_tickets: list[str]
    ttfr: list[tuple[str, float]]  # (ticket, seconds)
    ttc: list[float]
    messages_received: dict[str, int]  # ticket -> customer messages
    messages_sent: dict[str, int]  # ticket -> rep replies
    waits: Total  # customer-wait intervals that ended in the window
    rep_waits: Total
    incoming_hours: dict[int | str, int]  # local hour -> messages (JSON makes the keys strings)
    outgoing_hours: dict[int | str, int]
    by_channel_new: dict[str, int]
    by_channel_open: dict[str, int]
    by_priority_new: dict[str, int]
    by_priority_open: dict[str, int]
    open_by_rep: dict[str, int]  # owner ('' unassigned) -> open tickets at the window's end
    csat: list[tuple[str, bool]]  # (ticket, satisfied)
    calls: list[tuple[str, float]]  # (outcome, duration_s)
    sla: dict[str, dict[str, int]]  # metric -> state -> clocks
    sla_by_team: dict[str, dict[str, int]]  # team -> completed_on_time|completed_late -> clocks in the window


class Partial(TypedDict):
    """What one worker knows of an account's summary; partials of all workers `merge` into the whole.

    This is the protocol between workers (`/api/accounts/{a}/partial`): the
    web layer validates a peer's answer against it before merging.
    """

    today: WindowPart
    yesterday: WindowPart
    waiting_now: list[tuple[str, float]]  # (ticket, seconds waited so far)
    reps: list[tuple[str, str, str, str]]  # (ISO time, rep, team, status)
    # Running clocks overdue or due soon now, (ticket, metric, overdue|due_soon, ISO due time): only the first
    # ATTENTION_SHOWN in the order shown (the merged answer's first are among them), and every such ticket by state.
    attention: list[tuple[str, str, str, str]]
    attention_tickets: dict[str, list[str]]  # overdue|due_soon -> tickets
    options: dict[str, list[str]]  # filter -> values the account's tickets have (unfiltered)


def windows_of(now: datetime, timezone: str) -> tuple[ZoneInfo, datetime, dict[str, Window]]:
    zone = ZoneInfo(timezone)
    today_start, _ = day_bounds(local_date(now, zone), zone)
    then = same_time_yesterday(now, zone)
    yesterday_start, _ = day_bounds(local_date(then, zone), zone)
    return zone, then, {"today": Window(today_start, now), "yesterday": Window(yesterday_start, then)}


def filter_values(state: TicketState | None) -> tuple[str, ...]:
    """A ticket's value of each filter (FILTERS order)."""
    return tuple(state.get(_PROPERTY_OF_FILTER[name]) if state else "" for name in FILTERS)


def message_rank(key: tuple[str, str], fold: TicketFold) -> tuple[bool, str]:
    """A message held by a merged ticket and its primary counts once, on the lowest of these: the primary."""
    return bool(fold.merged_into), key[1]


def partial(tickets: Iterable[tuple[tuple[str, str], TicketFold, TicketState | None]],
            clocks: dict[tuple[str, str], list[Clock]], calls: list[Call], feedback: list[Feedback],
            reps: list[RepStatus], timezone: str, now: datetime, filters: dict[str, str] | None = None) -> Partial:
    """What one worker knows of an account's summary, in a form that merges with other workers' (JSON).

    The definition: it walks every ticket's history. The worker answers from streams.core.live_index, which
    gives the same figures from marks kept as tickets change.
    """
    tickets = list(tickets)
    filters = {k: v for k, v in (filters or {}).items() if v}
    zone, _, windows = windows_of(now, timezone)
    chosen = sorted(((k, f, s) for k, f, s in tickets if _matches(s, filters)), key=lambda t: message_rank(t[0], t[1]))
    out: dict = {}
    for name, window in windows.items():
        part = _ticket_figures(window, chosen, zone)
        part["sla"] = _sla_counts(chosen, clocks, window)
        part["sla_by_team"] = _sla_by_team(chosen, clocks, window)
        out[name] = part
    out["waiting_now"] = [[k[1], (now - f.replies.waiting_since).total_seconds()] for k, f, s in chosen
                          if f.replies.waiting_since is not None and _open_at(f, s, now)]
    out["attention"], out["attention_tickets"] = attention_share(_attention(chosen, clocks, now))
    values: dict[str, set[str]] = {name: set() for name in FILTERS}
    for _, _, state in tickets:
        for name, value in zip(FILTERS, filter_values(state), strict=True):
            if value:
                values[name].add(value)
    return with_logs(out, {k[1] for k, _, _ in chosen}, calls, feedback, reps, windows, filters, values)


def with_logs(out: dict, chosen_ids: set[str], calls: list[Call], feedback: list[Feedback], reps: list[RepStatus],
              windows: dict[str, Window], filters: dict[str, str], values: dict[str, set[str]]) -> Partial:
    """The ticket figures `out` with what the logs of calls, feedback and rep statuses add, and the options
    (`values`: each filter's values among the account's tickets)."""
    rep_filter, team_filter = filters.get("rep"), filters.get("team")
    for name, window in windows.items():
        part = out[name]
        part["csat"] = [[f.ticket_id, f.score >= f.scale - 1] for f in feedback if f.survey == "csat"
                        and window.has(f.at) and (not filters or f.ticket_id in chosen_ids)]
        part["calls"] = [[c.outcome, c.duration_s] for c in calls if window.has(c.at)
                         and (not rep_filter or c.rep_id == rep_filter)
                         and (not team_filter or c.team_id == team_filter)]
    out["reps"] = [[c.at.isoformat(), c.rep_id, c.team_id, c.status] for c in reps
                   if (not rep_filter or c.rep_id == rep_filter) and (not team_filter or c.team_id == team_filter)]
    out["options"] = _options(values, reps)
    return out  # type: ignore[return-value]


def merge(parts: list[Partial]) -> dict:
    """Partials of several workers as one (lists joined, counters and totals added)."""
    merged: dict = {"waiting_now": [], "reps": [], "attention": [], "attention_tickets": {}, "options": {}}
    for part in parts:
        merged["waiting_now"] += part["waiting_now"]
        merged["reps"] += part["reps"]
        merged["attention"] += part["attention"]
        for state, tickets in part["attention_tickets"].items():
            merged["attention_tickets"][state] = merged["attention_tickets"].get(state, []) + tickets
        for name, values in part["options"].items():
            merged["options"][name] = sorted(set(merged["options"].get(name, [])) | set(values))
        for name in ("today", "yesterday"):
            into = merged.setdefault(name, {})
            for key, value in part[name].items():
                if isinstance(value, list):
                    into[key] = into.get(key, []) + value
                else:  # counters: by hour / channel / priority / rep, and nested ones (sla, sla_by_team)
                    _add_counts(into.setdefault(key, {}), value)
    return merged


def _add_counts(into: dict, counts: dict) -> None:
    for k, n in counts.items():
        if isinstance(n, dict):
            _add_counts(into.setdefault(str(k), {}), n)
        else:
            into[str(k)] = into.get(str(k), 0) + n


def finalize(merged: dict, timezone: str, now: datetime, filters: dict[str, str] | None = None) -> dict:
    """The summary's figures from the merged partials."""
    filters = {k: v for k, v in (filters or {}).items() if v}
    zone, then, windows = windows_of(now, timezone)

    def peak(hours: dict) -> int | None:
        return min((int(h) for h in hours), key=lambda h: (-hours[str(h)], h)) if hours else None

    def values(part: dict) -> dict[str, tuple]:
        answers = part["csat"]
        calls = part["calls"]
        return {
            "open_tickets": (len(part["open_tickets"]), part["open_tickets"]),
            "closed": (len(part["closed"]), part["closed"]),
            "new_tickets": (len(part["new_tickets"]), part["new_tickets"]),
            "avg_first_response_s": (_avg([s for _, s in part["ttfr"]]), [t for t, _ in part["ttfr"]]),
            "avg_time_to_close_s": (_avg(part["ttc"]), part["closed"]),
            "messages_received": (sum(part["messages_received"].values()), sorted(part["messages_received"])),
            "messages_sent": (sum(part["messages_sent"].values()), sorted(part["messages_sent"])),
            "customer_wait_s": (average_s(part["waits"]), []),
            "rep_wait_s": (average_s(part["rep_waits"]), []),
            "peak_incoming_hour": (peak(part["incoming_hours"]), []),
            "peak_outgoing_hour": (peak(part["outgoing_hours"]), []),
            "csat": (round(sum(1 for _, happy in answers if happy) / len(answers), 4) if answers else None,
                     sorted({t for t, _ in answers})),
            "calls_completed": (sum(1 for o, _ in calls if o == "completed"), []),
            "call_duration_s": (round(sum(d for _, d in calls), 3), []),
            "calls_missed": (sum(1 for o, _ in calls if o == "missed"), []),
        }

    today, yesterday = values(merged["today"]), values(merged["yesterday"])
    figures = {name: Figure(today[name][0], yesterday[name][0], today[name][1]) for name in today}
    waiting = merged["waiting_now"]
    figures["customer_wait_now_s"] = Figure(_avg([s for _, s in waiting]), None, [t for t, _ in waiting])
    reps = [RepStatus(datetime.fromisoformat(at), rep, team, status) for at, rep, team, status in merged["reps"]]
    sla = {}
    for name in ("today", "yesterday"):
        counts = merged[name]["sla"]
        done = sum(c["completed_on_time"] + c["completed_late"] for c in counts.values())
        met = sum(c["completed_on_time"] for c in counts.values())
        sla[name] = {"clocks": counts, "met_share": round(met / done, 4) if done else None}
    part = merged["today"]
    attention = sorted(merged["attention"], key=_attention_order)[:ATTENTION_SHOWN]
    for figure, state in (("sla_overdue", "overdue"), ("sla_due_soon", "due_soon")):
        ids = sorted(set(merged["attention_tickets"].get(state, ())))
        figures[figure] = Figure(len(ids), None, ids)
    return {
        "account_timezone": timezone,
        "now": now.isoformat(),
        "today": str(local_date(now, zone)),
        "same_time_yesterday": then.isoformat(),
        "filters": filters,
        "figures": {name: f.as_dict() for name, f in figures.items()},
        "by_channel": {"new": part["by_channel_new"], "open": part["by_channel_open"]},
        "by_priority": {"new": part["by_priority_new"], "open": part["by_priority_open"]},
        "messages_by_hour": {"incoming": [part["incoming_hours"].get(str(h), 0) for h in range(24)],
                             "outgoing": [part["outgoing_hours"].get(str(h), 0) for h in range(24)]},
        "availability": _availability(reps, windows),
        "sla": sla,
        "csat_answers": {"today": len(merged["today"]["csat"]), "yesterday": len(merged["yesterday"]["csat"])},
        "attention": [{"ticket_id": t, "metric": m, "state": st, "due_at": due} for t, m, st, due in attention],
        "workload": dict(sorted(part["open_by_rep"].items(), key=lambda kv: (-kv[1], kv[0]))),
        "sla_by_team": _team_shares(part["sla_by_team"]),
        "options": merged["options"],
        "_tickets": {name: f.tickets for name, f in figures.items()},
    }


def summary(tickets: Iterable[tuple[tuple[str, str], TicketFold, TicketState | None]],
            clocks: dict[tuple[str, str], list[Clock]], calls: list[Call], feedback: list[Feedback],
            reps: list[RepStatus], timezone: str, now: datetime, filters: dict[str, str] | None = None) -> dict:
    """Every figure of SPEC §5 for today and the same time yesterday (one worker's view)."""
    return finalize(merge([partial(tickets, clocks, calls, feedback, reps, timezone, now, filters)]),
                    timezone, now, filters)


def _availability(reps: list[RepStatus], windows: dict[str, Window]) -> dict:
    """Reps available at the end of each window, and the most at once within it (reps already filtered)."""
    def states_until(end: datetime) -> dict[str, RepStatus]:
        current: dict[str, RepStatus] = {}
        for change in sorted(reps, key=lambda c: c.at):
            if change.at <= end:
                current[change.rep_id] = change
        return current

    out = {}
    for name, window in windows.items():
        current = states_until(window.end)
        available_now = sum(1 for c in current.values() if c.status == "available")
        peak = available_now
        running = dict(states_until(window.start))
        for change in sorted((c for c in reps if window.has(c.at)), key=lambda c: c.at):
            running[change.rep_id] = change
            peak = max(peak, sum(1 for c in running.values() if c.status == "available"))
        out[name] = {"available": available_now, "max_available": peak}
        if name == "today":
            out["reps"] = {r: c.status for r, c in sorted(current.items())}
    return out


def empty_sla() -> dict[str, dict[str, int]]:
    return {m: dict.fromkeys((*RUNNING_STATES, "completed_on_time", "completed_late"), 0)
            for m in ("first_response", "next_response", "time_to_close")}


def running_counts(clocks: Iterable[Clock], end: datetime, counts: dict[str, dict[str, int]]) -> None:
    """Add the clocks running at `end` (started, not yet stopped) by their state then."""
    for clock in clocks:
        if (clock.stopped_at is None or clock.stopped_at > end) and clock.started_at <= end:
            counts[clock.metric][clock.running_state(end)] += 1


def _sla_counts(tickets, clocks: dict[tuple[str, str], list[Clock]], window: Window) -> dict:
    """Per metric: clocks running at the end of the window by state, and those completed within it."""
    counts = empty_sla()
    for key, _, _ in tickets:
        for clock in clocks.get(key, ()):
            if clock.stopped_at is not None and window.has(clock.stopped_at):
                counts[clock.metric][clock.state(window.end)] += 1
        running_counts(clocks.get(key, ()), window.end, counts)
    return counts


def _sla_by_team(tickets, clocks: dict[tuple[str, str], list[Clock]], window: Window) -> dict[str, dict[str, int]]:
    """Clocks completed in the window, on time or late, per team of the ticket."""
    out: dict[str, Counter] = {}
    for key, _, state in tickets:
        team = (state.get("team_id") if state else "") or ""
        for clock in clocks.get(key, ()):
            if clock.stopped_at is not None and window.has(clock.stopped_at):
                out.setdefault(team, Counter())[clock.state(window.end)] += 1
    return {team: dict(states) for team, states in out.items()}


def _team_shares(counts: dict[str, dict[str, int]]) -> dict[str, dict]:
    teams = {}
    for team, states in sorted(counts.items()):
        on_time, late = states.get("completed_on_time", 0), states.get("completed_late", 0)
        teams[team] = {"on_time": on_time, "late": late,
                       "met_share": round(on_time / (on_time + late), 4) if on_time + late else None}
    return teams


def _attention(tickets, clocks: dict[tuple[str, str], list[Clock]], now: datetime) -> list[AttentionRow]:
    """Running clocks that are overdue or due soon now: what a team lead must see without a click."""
    return [row for key, fold, state in tickets if not (fold.merged_into or (state is not None and state.deleted))
            for row in attention_of(key[1], clocks.get(key, ()), now)]


def _attention_order(row: list[str]) -> tuple:
    return row[2] != "overdue", row[3], row[0], row[1]  # overdue first, then the soonest due


def attention_share(rows: list[AttentionRow]) -> tuple[list[list[str]], dict[str, list[str]]]:
    """A worker's attention rows as it sends them: its first ATTENTION_SHOWN in the order shown as
    [ticket, metric, state, ISO due time] (only those are formatted), and the tickets in each state (what the
    overdue and due-soon figures count and drill into)."""
    rows.sort()
    return [[t, m, state, due.isoformat()] for _, due, t, m, state in rows[:ATTENTION_SHOWN]], \
        {state: sorted({r[2] for r in rows if r[4] == state}) for state in ("overdue", "due_soon")}


def attention_of(ticket: str, clocks: Iterable[Clock], now: datetime) -> list[AttentionRow]:
    """One ticket's running clocks that are overdue or due soon at `now`."""
    out = []
    for clock in clocks:
        if clock.stopped_at is None and clock.started_at <= now and clock.due_at is not None:
            running = clock.running_state(now)
            if running in ("overdue", "due_soon"):
                out.append((running != "overdue", clock.due_at, ticket, clock.metric, running))
    return out


def _options(values: dict[str, set[str]], reps: list[RepStatus]) -> dict[str, list[str]]:
    """The values each filter can take: those the account's tickets (and rep statuses) have."""
    found = {name: set(values.get(name, ())) for name in FILTERS}
    for change in reps:
        found["rep"].add(change.rep_id)
        if change.team_id:
            found["team"].add(change.team_id)
    return {name: sorted(v) for name, v in found.items()}
