"""Per-day counters of an account's live marks (pure): today's figures without reading today's marks.

The live index (streams.core.live_index) keeps each live ticket's dated marks in time order, and a window's
figures were read from every mark inside it: for a busy account, every message of today and of yesterday so
far, on each answer. A `DayTally` holds one local day's marks already counted: tickets created and closed
(with their first close), first responses, messages per ticket and per local hour, totals of reply waits,
stopped SLA clocks, from the day's start up to a cursor. A window starts at its day's start, so with the
cursor at the window's end the tally holds the window's figures. Answers ask about "now" again and again, so
the cursor moves over the marks of a second or two; puts and drops of views change the tallies as they go.

A message held by a merged ticket and its primary is counted on one of them at answer time (the lowest rank,
as in live_summary), so the index keeps such messages out of the tallies and adds them per answer.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime
from zoneinfo import ZoneInfo

from streams.core.live_summary import Total, empty_sla, total

Mark = tuple[datetime, str, tuple[str, str], object]  # (at, kind, ticket key, value): a live index's mark


class DayTally:
    """One local day's tallied marks from its start up to `cursor` (inclusive): a window's figures when the
    cursor is at the window's end. Messages are counted only when the index says so (one holder)."""

    __slots__ = ("cursor", "new", "closes", "ttfr", "received", "sent", "incoming", "outgoing", "waits",
                 "rep_waits", "sla")

    def __init__(self, cursor: datetime) -> None:
        self.cursor = cursor
        self.new: dict[str, tuple[datetime, str, str]] = {}  # ticket -> (created, channel, priority)
        self.closes: dict[str, list[tuple[datetime, float]]] = {}  # ticket -> its closes (at, seconds), in order
        self.ttfr: dict[str, tuple[datetime, float]] = {}  # ticket -> (first response, seconds)
        self.received: Counter = Counter()  # ticket -> customer messages
        self.sent: Counter = Counter()  # ticket -> rep replies
        self.incoming: Counter = Counter()  # local hour -> customer messages
        self.outgoing: Counter = Counter()
        self.waits: Total = total()
        self.rep_waits: Total = total()
        self.sla: Counter = Counter()  # (metric, state, team) -> stopped clocks

    def count(self, mark: Mark, zone: ZoneInfo, sign: int) -> None:
        """Count a mark in (sign 1) or out (sign -1)."""
        at, kind, key, value = mark
        ticket = key[1]
        if kind == "customer" or kind == "rep":
            per_ticket, per_hour = (self.received, self.incoming) if kind == "customer" else (self.sent, self.outgoing)
            _move(per_ticket, ticket, sign)
            _move(per_hour, at.astimezone(zone).hour, sign)
        elif kind == "new":
            if sign > 0:
                self.new[ticket] = (at, *value)  # type: ignore[misc]
            else:
                del self.new[ticket]
        elif kind == "close":
            closes = self.closes.setdefault(ticket, [])
            if sign > 0:
                closes.append((at, value))  # type: ignore[arg-type]
                closes.sort()
            else:
                closes.remove((at, value))  # type: ignore[arg-type]
                if not closes:
                    del self.closes[ticket]
        elif kind == "ttfr":
            if sign > 0:
                self.ttfr[ticket] = (at, value)  # type: ignore[assignment]
            else:
                del self.ttfr[ticket]
        elif kind == "wait" or kind == "rep_wait":
            into = self.waits if kind == "wait" else self.rep_waits
            into["n"] += sign
            into["us"] += sign * value  # type: ignore[operator]
        elif kind == "sla":
            _move(self.sla, value, sign)

    def part(self) -> dict:
        """The figures of the window from the day's start to the cursor (new copies: the tally moves on).
        Ticket lists in time order, as the marks give them."""
        new = sorted((at, ticket, channel, priority) for ticket, (at, channel, priority) in self.new.items())
        closed = sorted((closes[0][0], ticket, closes[0][1]) for ticket, closes in self.closes.items())
        by_state = empty_sla()
        by_team: dict[str, Counter] = {}
        for (metric, state, team), n in self.sla.items():
            by_state[metric][state] += n
            by_team.setdefault(team, Counter())[state] += n
        return {
            "new_tickets": [t for _, t, _, _ in new],
            "by_channel_new": dict(Counter(channel for _, _, channel, _ in new)),
            "by_priority_new": dict(Counter(priority for _, _, _, priority in new)),
            "closed": [t for _, t, _ in closed], "ttc": [seconds for _, _, seconds in closed],
            "ttfr": [(t, seconds) for _, t, seconds in sorted((at, t, s) for t, (at, s) in self.ttfr.items())],
            "received": dict(self.received), "sent": dict(self.sent),
            "incoming": dict(self.incoming), "outgoing": dict(self.outgoing),
            "waits": dict(self.waits), "rep_waits": dict(self.rep_waits),
            "sla": by_state, "sla_by_team": by_team,
        }


class DayTallies:
    """The tallies of the local days answers asked about lately (at most KEPT), in one time zone. The index
    builds a day's tally on the first question about it and moves its cursor to each window's end; puts and
    drops count here the marks of a tallied day up to its cursor."""

    KEPT = 4  # today and yesterday, and those an `at` in the past asks about

    def __init__(self, zone: str) -> None:
        self.zone_name = zone
        self.zone = ZoneInfo(zone)
        self.days: dict[date, DayTally] = {}

    def count(self, mark: Mark, sign: int) -> None:
        tally = self.days.get(mark[0].astimezone(self.zone).date()) if self.days else None
        if tally is not None and mark[0] <= tally.cursor:
            tally.count(mark, self.zone, sign)

    def get(self, day: date) -> DayTally | None:
        tally = self.days.pop(day, None)
        if tally is not None:
            self.days[day] = tally  # the most recently used last
        return tally

    def start(self, day: date, cursor: datetime) -> DayTally:
        """A new, empty tally of the day (its cursor before its start), the least recently used one dropped."""
        self.days.pop(day, None)
        tally = self.days[day] = DayTally(cursor)
        while len(self.days) > self.KEPT:
            del self.days[next(iter(self.days))]
        return tally


def _move(counts: Counter, key, sign: int) -> None:
    n = counts[key] + sign
    if n:
        counts[key] = n
    else:
        del counts[key]
