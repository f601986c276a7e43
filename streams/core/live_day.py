""""Today" in an account's time zone (pure): day bounds and the same time yesterday.

A day is [local midnight, next local midnight): 23 or 25 hours on DST days,
and in zones where a DST change skips midnight the day starts at the first
instant that shows its date. "The same time yesterday" is the instant whose
local wall-clock time is now's, one calendar day earlier; if that wall time
did not exist yesterday (a spring-forward gap) it is the first instant after
the gap, and if it happened twice (fall-back) the first of the two.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


def local_date(instant: datetime, zone: ZoneInfo) -> date:
    return instant.astimezone(zone).date()


def _first_instant_at_or_after(wall: datetime, zone: ZoneInfo) -> datetime:
    """The first UTC instant whose local wall time is >= `wall` (naive, local)."""
    candidate = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if candidate.astimezone(zone).replace(tzinfo=None) >= wall:
        # `wall` exists (fold=0 is its first occurrence) or zoneinfo mapped a gap
        # time past the gap; step back over a possible gap to find the earliest.
        probe = candidate
        while True:
            earlier = probe - timedelta(minutes=1)
            if earlier.astimezone(zone).replace(tzinfo=None) >= wall:
                probe = earlier
            else:
                break
        return probe
    # In a gap zoneinfo may land before it: walk forward to the first valid time.
    probe = candidate
    while probe.astimezone(zone).replace(tzinfo=None) < wall:
        probe += timedelta(minutes=1)
    return probe


def day_start(day: date, zone: ZoneInfo) -> datetime:
    return _first_instant_at_or_after(datetime.combine(day, time()), zone)


def day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """[start, end) of a local calendar day, in UTC."""
    return day_start(day, zone), day_start(day + timedelta(days=1), zone)


def same_time_yesterday(now: datetime, zone: ZoneInfo) -> datetime:
    wall = now.astimezone(zone).replace(tzinfo=None)
    yesterday = wall - timedelta(days=1)
    found = _first_instant_at_or_after(yesterday, zone)
    start, end = day_bounds(yesterday.date(), zone)
    return min(max(found, start), end)
