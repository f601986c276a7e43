"""The live summary kept per account as tickets change (pure): a window's figures read as a range.

`live_summary.partial` walks every live ticket's whole history and recomputes
its SLA clocks for each answer: for a big account that is every message of
the last 50 hours twice (today and yesterday so far). Here each ticket is
turned, once per change, into a `TicketView`: its dated marks (created, each
message, first response, each close, each reply interval that ended, each SLA
clock that stopped) and what point-in-time figures need (status changes, the
clocks, since when a customer waits). An account's marks are kept in
time-ordered lists (one per kind). An unfiltered window's figures come from
its day's tally (streams.core.live_days: counted as views change, its cursor
moved to the window's end), a filtered one's from the marks inside it; open
tickets and running clocks are read from the tickets that could be open then
(`span`). The answer is `live_summary.partial`'s, figure for figure
(tests/unit/test_live_index.py compares them on random accounts).
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from operator import itemgetter
from zoneinfo import ZoneInfo

from sortedcontainers import SortedKeyList

from streams.core.folds import Key, TicketFold
from streams.core.live_day import day_bounds, local_date
from streams.core.live_days import DayTallies, Mark
from streams.core.live_summary import (
    FILTERS,
    Call,
    Feedback,
    Partial,
    RepStatus,
    Total,
    Window,
    add,
    attention_of,
    attention_share,
    empty_sla,
    filter_values,
    message_rank,
    micros,
    running_counts,
    total,
    windows_of,
    with_logs,
)
from streams.core.sla_clocks import Clock
from streams.core.ticket_properties import TicketState

_at = itemgetter(0)
# Each kind of mark in its own time-ordered list (customer and rep messages together): a window's marks of
# one kind are read in one tight loop.
_LIST_OF = {"new": "new", "customer": "msg", "rep": "msg", "close": "close", "ttfr": "ttfr", "wait": "wait",
            "rep_wait": "rep_wait", "sla": "sla"}
_FAR = datetime.max.replace(tzinfo=UTC)
_TICK = timedelta(microseconds=1)  # a day tally's cursor before its day's first instant


def _until(view: TicketView) -> tuple[datetime, Key]:
    return view.span[1] or _FAR, view.key  # type: ignore[index]


@dataclass(slots=True, eq=False)
class TicketView:
    """What one ticket gives the live figures; `stamp` is what it was built from (compared by identity)."""

    key: Key
    stamp: tuple[tuple, tuple]  # (objects compared by identity, values compared by equality)
    values: tuple[str, ...]  # the filters' values (FILTERS order)
    channel: str
    priority: str
    owner: str
    gone: bool  # merged or deleted: never open, its history counts on its primary or not at all
    rank: tuple[bool, str]  # which holder a message shared with a merged ticket counts on (the lowest)
    created_at: datetime | None
    toggles_at: list[datetime]  # status changes into a closed or an open stage, in history order
    toggles_closed: list[bool]
    waiting_since: datetime | None
    clocks: list[Clock]
    span: tuple[datetime, datetime | None] | None  # when it can be open or have a clock running (None: never)
    marks: list[Mark]

    def open_at(self, at: datetime) -> bool:
        if self.gone or self.created_at is None or self.created_at > at:
            return False
        i = bisect_right(self.toggles_at, at)
        return i == 0 or not self.toggles_closed[i - 1]


def view_of(key: Key, stamp: tuple[tuple, tuple], fold: TicketFold, state: TicketState | None,
            clocks: list[Clock]) -> TicketView:
    r = fold.replies
    gone = bool(fold.merged_into) or (state is not None and state.deleted)
    marks: list[Mark] = []
    toggles_at, toggles_closed = [], []
    channel, priority = (state.get("channel"), state.get("priority")) if state else ("", "")
    if r.created_at is not None:
        marks.append((r.created_at, "new", key, (channel, priority)))
    for step in r.history:
        if step.kind in ("customer", "rep"):
            marks.append((step.at, step.kind, key, step.event_id))
        elif step.kind in ("closed", "opened"):
            toggles_at.append(step.at)
            toggles_closed.append(step.kind == "closed")
            if step.kind == "closed" and not gone and r.created_at is not None:
                marks.append((step.at, "close", key, (step.at - r.created_at).total_seconds()))
    if not gone:
        start = r.first_response_from
        if r.first_response_at is not None and start is not None:
            marks.append((r.first_response_at, "ttfr", key, (r.first_response_at - start).total_seconds()))
        for interval in r.intervals:
            marks.append((interval.ended_at, "wait" if interval.metric == "customer_wait" else "rep_wait", key,
                          micros(interval.ended_at - interval.started_at)))
    team = (state.get("team_id") if state else "") or ""
    for clock in clocks:
        if clock.stopped_at is not None:
            marks.append((clock.stopped_at, "sla", key, (clock.metric, clock.state(clock.stopped_at), team)))
    return TicketView(
        key, stamp, filter_values(state), channel, priority, state.get("owner_id") if state else "", gone,
        message_rank(key, fold), r.created_at, toggles_at, toggles_closed, r.waiting_since, clocks,
        _span(r.created_at, gone, toggles_at, toggles_closed, clocks), marks)


def _span(created: datetime | None, gone: bool, toggles_at: list[datetime], toggles_closed: list[bool],
          clocks: list[Clock]) -> tuple[datetime, datetime | None] | None:
    """From its creation or first clock to its last close or last clock's stop; open-ended while either runs."""
    starts = [c.started_at for c in clocks]
    ends: list[datetime] = [c.stopped_at for c in clocks if c.stopped_at is not None]
    running = any(c.stopped_at is None for c in clocks)
    if not gone and created is not None:
        starts.append(created)
        if not toggles_closed or not toggles_closed[-1]:
            running = True  # open now (it may also be open at any later instant)
        else:
            ends.append(toggles_at[-1])
    if not starts:
        return None
    return min(starts), None if running else max(ends, default=min(starts))


class AccountIndex:
    """One account's live tickets as views, their marks in time order (a list per kind), and per-day tallies
    of those marks (streams.core.live_days) once an unfiltered answer asked for them."""

    def __init__(self) -> None:
        self.views: dict[Key, TicketView] = {}
        self._marks: dict[str, SortedKeyList] = {name: SortedKeyList(key=_at) for name in set(_LIST_OF.values())}
        # message event id -> the mark of the one view holding it, or the marks of all (a merged ticket and its
        # primary: the message counts on one of them, chosen per answer, and is not in the tallies)
        self._holders: dict[str, Mark | list[Mark]] = {}
        self._shared: dict[str, list[Mark]] = {}  # the event ids held more than once
        self._values: tuple[Counter, ...] = tuple(Counter() for _ in FILTERS)  # tickets per filter value
        # Views that can be open or have a clock running at some instant, by the end of that span: those live
        # at an instant are among the ones whose span ends at or after it (the open tickets, the closed since).
        self._spans: SortedKeyList = SortedKeyList(key=_until)
        self._days: DayTallies | None = None  # in the time zone of the last unfiltered answer

    def marks(self) -> int:
        return sum(len(marks) for marks in self._marks.values())

    def current(self, key: Key, stamp: tuple[tuple, tuple]) -> bool:
        """Whether the ticket's view was built from these (immutable) objects and values."""
        view = self.views.get(key)
        return view is not None and view.stamp[1] == stamp[1] and len(view.stamp[0]) == len(stamp[0]) and all(
            a is b for a, b in zip(view.stamp[0], stamp[0], strict=True))

    def put(self, view: TicketView) -> None:
        self.drop(view.key)
        self.views[view.key] = view
        days = self._days
        for mark in view.marks:
            self._marks[_LIST_OF[mark[1]]].add(mark)
            if mark[1] == "customer" or mark[1] == "rep":
                event_id = mark[3]
                held = self._holders.get(event_id)  # type: ignore[call-overload]
                if held is None:
                    self._holders[event_id] = mark  # type: ignore[index]
                elif isinstance(held, list):
                    held.append(mark)
                    continue
                else:  # now held twice: counted per answer from here on, not in the tallies
                    self._holders[event_id] = self._shared[event_id] = [held, mark]  # type: ignore[index]
                    if days is not None:
                        days.count(held, -1)
                    continue
            if days is not None:
                days.count(mark, 1)
        if view.span is not None:
            self._spans.add(view)
        for counts, value in zip(self._values, view.values, strict=True):
            counts[value] += 1

    def drop(self, key: Key) -> None:
        view = self.views.pop(key, None)
        if view is None:
            return
        days = self._days
        for mark in view.marks:
            self._marks[_LIST_OF[mark[1]]].remove(mark)
            if mark[1] == "customer" or mark[1] == "rep":
                event_id = mark[3]
                held = self._holders[event_id]  # type: ignore[index]
                if isinstance(held, list):
                    held[:] = [m for m in held if m is not mark]
                    if len(held) == 1:  # held once again: back in the tallies
                        self._holders[event_id] = held[0]  # type: ignore[index]
                        del self._shared[event_id]  # type: ignore[arg-type]
                        if days is not None:
                            days.count(held[0], 1)
                    continue
                del self._holders[event_id]  # type: ignore[arg-type]
            if days is not None:
                days.count(mark, -1)
        if view.span is not None:
            self._spans.remove(view)
        for counts, value in zip(self._values, view.values, strict=True):
            _less(counts, value)

    def partial(self, calls: list[Call], feedback: list[Feedback], reps: list[RepStatus], timezone: str,
                now: datetime, filters: dict[str, str] | None = None) -> Partial:
        """live_summary.partial over the views held, reading each window's marks only."""
        filters = {k: v for k, v in (filters or {}).items() if v}
        zone, _, windows = windows_of(now, timezone)
        wanted = [(FILTERS.index(name), value) for name, value in filters.items()]
        keep = {v.key for v in self.views.values() if all(v.values[i] == value for i, value in wanted)} \
            if wanted else None
        if keep is None and (self._days is None or self._days.zone_name != timezone):
            self._days = DayTallies(timezone)
        out: dict = {}
        for name, window in windows.items():
            out[name] = self._window(window, keep, zone)
        live_now = self._live_at(now, keep)
        out["waiting_now"] = [[v.key[1], (now - v.waiting_since).total_seconds()] for v in live_now
                              if v.waiting_since is not None and v.open_at(now)]
        out["attention"], out["attention_tickets"] = attention_share(
            [row for v in live_now if not v.gone for row in attention_of(v.key[1], v.clocks, now)])
        values = {name: {v for v in counts if v} for name, counts in zip(FILTERS, self._values, strict=True)}
        return with_logs(out, {key[1] for key in keep} if keep is not None else set(), calls, feedback, reps,
                         windows, filters, values)

    def _live_at(self, at: datetime, keep: set[Key] | None) -> list[TicketView]:
        """The (chosen) views that can be open or have a clock running at `at`."""
        return [v for v in self._spans.irange_key(min_key=(at,)) if v.span[0] <= at and (keep is None or v.key in keep)]

    def _window(self, window: Window, keep: set[Key] | None, zone: ZoneInfo, by_day: bool | None = None) -> dict:
        """A window's figures: unfiltered from its day's tally, filtered from the marks inside it. `by_day`
        forces one way (tests compare the two)."""
        if by_day is None:
            by_day = keep is None
        part = self._from_day(window, zone) if by_day else self._from_marks(window, keep, zone)
        open_ids = []
        by_channel_open: Counter = Counter()
        by_priority_open: Counter = Counter()
        open_by_rep: Counter = Counter()
        end = window.end
        sla = part["sla"]
        for view in self._live_at(end, keep):
            if view.open_at(end):
                open_ids.append(view.key[1])
                by_channel_open[view.channel] += 1
                by_priority_open[view.priority] += 1
                open_by_rep[view.owner] += 1
            running_counts(view.clocks, end, sla)
        return {
            "open_tickets": open_ids, "closed": part["closed"], "new_tickets": part["new_tickets"],
            "ttfr": part["ttfr"], "ttc": part["ttc"],
            "messages_received": part["received"], "messages_sent": part["sent"],
            "waits": part["waits"], "rep_waits": part["rep_waits"],
            "incoming_hours": part["incoming"], "outgoing_hours": part["outgoing"],
            "by_channel_new": part["by_channel_new"], "by_channel_open": dict(by_channel_open),
            "by_priority_new": part["by_priority_new"], "by_priority_open": dict(by_priority_open),
            "open_by_rep": dict(open_by_rep), "sla": sla,
            "sla_by_team": {team: dict(states) for team, states in part["sla_by_team"].items()},
        }

    def _between(self, a: datetime, b: datetime) -> int:
        """How many marks lie in (a, b]."""
        return sum(marks.bisect_key_right(b) - marks.bisect_key_right(a) for marks in self._marks.values())

    def _from_day(self, window: Window, zone: ZoneInfo) -> dict:
        """The window's completed figures from its day's tally, its cursor moved to the window's end (or a
        new tally when moving it would read more marks than the window holds), plus the messages held twice
        (counted once, on the lowest-ranked holder)."""
        assert self._days is not None
        day, end = local_date(window.start, zone), window.end
        if end >= day_bounds(day, zone)[1]:  # a yesterday clamped to the next midnight (DST): not one day's marks
            return self._from_marks(window, None, zone)
        tally = self._days.get(day)
        if tally is None or self._between(*sorted((tally.cursor, end))) > self._between(window.start - _TICK, end):
            tally = self._days.start(day, window.start - _TICK)
        if tally.cursor != end:
            low, high, sign = (tally.cursor, end, 1) if tally.cursor < end else (end, tally.cursor, -1)
            holders = self._holders
            for marks in self._marks.values():
                for mark in marks.irange_key(low, high, inclusive=(False, True)):
                    if _tallied(mark, holders):
                        tally.count(mark, zone, sign)
            tally.cursor = end
        part = tally.part()
        self._add_shared(part, window, None, zone)
        return part

    def _add_shared(self, part: dict, window: Window, keep: set[Key] | None, zone: ZoneInfo) -> None:
        """Count into `part` each message held by a merged ticket and another once, on its lowest-ranked
        (chosen) holder inside the window: the primary."""
        for held in self._shared.values():
            inside = [m for m in held if window.has(m[0]) and (keep is None or m[2] in keep)]
            if not inside:
                continue
            at, kind, key, _ = min(inside, key=lambda m: self.views[m[2]].rank)
            per_ticket, per_hour = (part["received"], part["incoming"]) if kind == "customer" else \
                (part["sent"], part["outgoing"])
            per_ticket[key[1]] = per_ticket.get(key[1], 0) + 1
            hour = at.astimezone(zone).hour
            per_hour[hour] = per_hour.get(hour, 0) + 1

    def _from_marks(self, window: Window, keep: set[Key] | None, zone: ZoneInfo) -> dict:
        """The window's completed figures from the marks inside it (the chosen tickets' only)."""
        def marks(kind: str) -> Iterable[Mark]:
            found = self._marks[kind].irange_key(window.start, window.end)
            return found if keep is None else (m for m in found if m[2] in keep)

        new = []
        by_channel_new: Counter = Counter()
        by_priority_new: Counter = Counter()
        for _, _, key, (channel, priority) in marks("new"):  # type: ignore[misc]
            new.append(key[1])
            by_channel_new[channel] += 1
            by_priority_new[priority] += 1
        closed, ttc, closed_seen = [], [], set()
        for _, _, key, seconds in marks("close"):
            if key not in closed_seen:  # the first close in the window
                closed_seen.add(key)
                closed.append(key[1])
                ttc.append(seconds)
        sla = empty_sla()
        by_team: dict[str, Counter] = {}
        for _, _, _, (metric, state, team) in marks("sla"):  # type: ignore[misc]
            sla[metric][state] += 1
            by_team.setdefault(team, Counter())[state] += 1
        received: list[str] = []  # a ticket per message, counted per ticket at the end (in C)
        sent: list[str] = []
        incoming: Counter = Counter()
        outgoing: Counter = Counter()

        def tally(ticket: str, kind: str, at: datetime) -> None:
            if kind == "customer":
                received.append(ticket)
                incoming[at.astimezone(zone).hour] += 1
            else:
                sent.append(ticket)
                outgoing[at.astimezone(zone).hour] += 1

        holders = self._holders
        for at, kind, key, event_id in marks("msg"):
            if not isinstance(holders[event_id], list):  # type: ignore[index]  # held twice: _add_shared
                tally(key[1], kind, at)
        part = {
            "new_tickets": new, "by_channel_new": dict(by_channel_new), "by_priority_new": dict(by_priority_new),
            "closed": closed, "ttc": ttc, "ttfr": [(m[2][1], m[3]) for m in marks("ttfr")],
            "received": dict(Counter(received)), "sent": dict(Counter(sent)), "incoming": dict(incoming),
            "outgoing": dict(outgoing),
            "waits": _total(marks("wait")), "rep_waits": _total(marks("rep_wait")),
            "sla": sla, "sla_by_team": by_team,
        }
        self._add_shared(part, window, keep, zone)
        return part


def _tallied(mark: Mark, holders: dict) -> bool:
    """Whether a day's tally counts the mark: any but a message held by more than one view."""
    return not ((mark[1] == "customer" or mark[1] == "rep") and isinstance(holders[mark[3]], list))


def _total(marks: Iterable[Mark]) -> Total:
    out = total()
    for mark in marks:
        add(out, mark[3])  # type: ignore[arg-type]
    return out


def _less(counts: Counter, value) -> None:
    counts[value] -= 1
    if not counts[value]:
        del counts[value]
