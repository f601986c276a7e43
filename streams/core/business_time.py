"""Working-time arithmetic on a business-hours calendar (pure).

Definition: a moment is working time when the wall clock of the calendar's
time zone shows a time inside one of that day's ranges. A range belongs to
the day it starts on and may run past midnight (22:00–06:00); a holiday
removes the ranges that start on it. So on a spring-forward day the skipped
hour is never worked, and on a fall-back day a repeated hour inside a range
is worked twice: exactly what the office clock says.

All instants are aware datetimes; results are exact to the microsecond.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from schemas.hours import DAY_MINUTES, parse_ranges

__all__ = ["DAY_MINUTES", "WorkCalendar", "parse_ranges"]
Interval = tuple[datetime, datetime]  # [start, end) in UTC
_SEGMENT = timedelta(hours=6)  # no zone changes its offset twice within six hours
# Working time is counted on a timeline cut into UTC chunks of four weeks, each holding its merged
# working intervals and the working microseconds before each: a duration is two binary searches
# however long it runs, instead of a walk over every day of it.
_CHUNK = timedelta(days=28)
_ORIGIN = datetime(2000, 1, 3, tzinfo=UTC)
_US = timedelta(microseconds=1)
_CHUNK_US = _CHUNK // _US
_DAY_US = timedelta(days=1) // _US
_MAX_CHUNKS = 4096  # ~300 years per calendar


def _micros(t: datetime) -> int:
    """Microseconds since _ORIGIN: the timeline's arithmetic is on integers (aware datetimes of any zone)."""
    return (t - _ORIGIN) // _US


@lru_cache(maxsize=1024)
def _target_micros(seconds: float) -> int:
    """timedelta(seconds=seconds) in microseconds (rounded as timedelta rounds), remembered: a handful of SLA
    targets are asked for again and again."""
    return timedelta(seconds=seconds) // _US


class _Chunk:
    """The working intervals within one chunk, merged and clipped to it, in microseconds since _ORIGIN;
    `before[i]` and `after[i]` are the working microseconds of the chunk before `starts[i]` and `ends[i]`,
    `total` those of the chunk."""

    __slots__ = ("after", "before", "ends", "starts", "total")

    def __init__(self, intervals: Iterable[Interval]) -> None:
        self.starts: list[int] = []
        self.ends: list[int] = []
        self.before: list[int] = []
        self.after: list[int] = []
        total = 0
        for a, b in intervals:
            lo, hi = _micros(a), _micros(b)
            self.starts.append(lo)
            self.ends.append(hi)
            self.before.append(total)
            total += hi - lo
            self.after.append(total)
        self.total = total

    def upto(self, t: int) -> int:
        """Working microseconds of the chunk before `t`."""
        i = bisect_right(self.starts, t) - 1
        if i < 0:
            return 0
        end = self.ends[i]
        return self.before[i] + (t if t < end else end) - self.starts[i]

    def instant(self, target: int) -> int | None:
        """The first instant by which `target` working microseconds of the chunk have passed (None: the
        chunk has fewer)."""
        i = bisect_left(self.after, target)
        if i == len(self.after):
            return None
        return self.starts[i] + target - self.before[i]


@dataclass(frozen=True)
class WorkCalendar:
    """Weekly ranges in minutes from local midnight (Monday = 0); end may exceed 1440."""

    timezone: str
    weekly: tuple[tuple[tuple[int, int], ...], ...]
    holidays: frozenset[date] = frozenset()
    always: bool = False  # 24/7: every moment is working time
    zone: ZoneInfo = field(init=False, repr=False, compare=False)
    # local date -> its ranges as UTC intervals; pure function of the fields
    _days: dict[date, tuple[Interval, ...]] = field(init=False, repr=False, compare=False, default_factory=dict)
    # chunk number -> its timeline (see _Chunk); pure function of the fields
    _chunks: dict[int, _Chunk] = field(init=False, repr=False, compare=False, default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "zone", ZoneInfo(self.timezone))
        if not self.always and len(self.weekly) != 7:
            raise ValueError("weekly needs one entry per weekday, Monday first")
        for ranges in self.weekly:
            for start, end in ranges:
                if not (0 <= start < DAY_MINUTES and start < end <= start + DAY_MINUTES):
                    raise ValueError(f"bad range {start}-{end}: minutes from midnight, at most 24 hours long")

    @classmethod
    def twenty_four_seven(cls) -> WorkCalendar:
        return cls("UTC", (), always=True)

    # --- intervals ----------------------------------------------------------------

    def intervals(self, start: datetime, end: datetime) -> Iterator[Interval]:
        """Working intervals within [start, end), in order, non-overlapping, merged."""
        start, end = start.astimezone(UTC), end.astimezone(UTC)
        if end <= start:
            return
        if self.always:
            yield (start, end)
            return
        yield from _merge(self._raw_intervals(start, end))

    def _raw_intervals(self, start: datetime, end: datetime) -> Iterator[Interval]:
        # Local dates whose ranges can reach [start, end): a range starts on its
        # day and lasts at most 24h, and offsets are within ±18h.
        first = (start - timedelta(hours=42)).date()
        last = (end + timedelta(hours=18)).date()
        day = first
        while day <= last:
            for a, b in self._day(day):
                a, b = max(a, start), min(b, end)
                if a < b:
                    yield (a, b)
            day += timedelta(days=1)

    def _day(self, day: date) -> tuple[Interval, ...]:
        """The UTC intervals of the ranges that start on this local date (memoized)."""
        found = self._days.get(day)
        if found is None:
            found = ()
            if day not in self.holidays:
                midnight = datetime(day.year, day.month, day.day)
                found = tuple(interval for lo, hi in self.weekly[day.weekday()]
                              for interval in self._wall_to_utc(midnight + timedelta(minutes=lo),
                                                                midnight + timedelta(minutes=hi)))
            if len(self._days) > 20_000:
                self._days.clear()
            self._days[day] = found
        return found

    def _wall_to_utc(self, wall_lo: datetime, wall_hi: datetime) -> Iterator[Interval]:
        """UTC intervals during which the wall clock shows a time in [wall_lo, wall_hi)."""
        # Within a segment of constant offset, wall = utc + offset.
        window_lo = (wall_lo - timedelta(hours=18)).replace(tzinfo=UTC)
        window_hi = (wall_hi + timedelta(hours=18)).replace(tzinfo=UTC)
        for seg_lo, seg_hi, offset in _offset_segments(self.zone, window_lo, window_hi):
            a = max((wall_lo - offset).replace(tzinfo=UTC), seg_lo)
            b = min((wall_hi - offset).replace(tzinfo=UTC), seg_hi)
            if a < b:
                yield (a, b)

    # --- arithmetic -------------------------------------------------------------

    def working_seconds(self, start: datetime, end: datetime) -> float:
        """Working time between two instants (0 if end <= start)."""
        if self.always:
            return max((end - start).total_seconds(), 0.0)
        if end <= start:
            return 0.0
        lo, hi = _micros(start), _micros(end)
        first, last = lo // _CHUNK_US, hi // _CHUNK_US
        micros = self._chunk(last).upto(hi) - self._chunk(first).upto(lo)
        for k in range(first, last):
            micros += self._chunk(k).total
        return micros / 1_000_000

    def _chunk(self, k: int) -> _Chunk:
        found = self._chunks.get(k)
        if found is None:
            lo = _ORIGIN + k * _CHUNK
            found = _Chunk(_merge(self._raw_intervals(lo, lo + _CHUNK)))
            if len(self._chunks) >= _MAX_CHUNKS:
                self._chunks.clear()
            self._chunks[k] = found
        return found

    def add(self, start: datetime, seconds: float, horizon_days: int = 800) -> datetime | None:
        """The instant at which `seconds` of working time have passed since `start`.

        None when the calendar has no working time within the horizon (a
        target can then never be reached). With seconds == 0 the answer is
        `start` itself, even outside working hours.
        """
        if seconds <= 0:
            return start.astimezone(UTC)
        if self.always:
            return start.astimezone(UTC) + timedelta(seconds=seconds)
        left = _target_micros(seconds)
        if left <= 0:  # under a microsecond
            return start.astimezone(UTC)
        at = _micros(start)
        # the horizon is counted in whole weeks from the start, as far as anyone looks
        limit = at + 7 * -(-horizon_days // 7) * _DAY_US
        k = at // _CHUNK_US
        chunk = self._chunk(k)
        target = chunk.upto(at) + left
        while True:
            found = chunk.instant(target)
            if found is not None:
                return _ORIGIN + timedelta(microseconds=found) if found <= limit else None
            target -= chunk.total
            k += 1
            if k * _CHUNK_US >= limit:
                return None
            chunk = self._chunk(k)


def _offset_segments(zone: ZoneInfo, lo: datetime, hi: datetime) -> list[tuple[datetime, datetime, timedelta]]:
    """[lo, hi) split where the zone's UTC offset changes, with each piece's offset."""
    segments: list[tuple[datetime, datetime, timedelta]] = []
    cursor = lo
    while cursor < hi:
        step_hi = min(cursor + _SEGMENT, hi)
        off_lo, off_hi = _offset(zone, cursor), _offset(zone, step_hi)
        if off_lo == off_hi:
            _append(segments, cursor, step_hi, off_lo)
        else:
            change = _find_change(zone, cursor, step_hi, off_lo)
            _append(segments, cursor, change, off_lo)
            _append(segments, change, step_hi, _offset(zone, change))
        cursor = step_hi
    return segments


def _append(segments: list, lo: datetime, hi: datetime, offset: timedelta) -> None:
    if lo >= hi:
        return
    if segments and segments[-1][2] == offset and segments[-1][1] == lo:
        segments[-1] = (segments[-1][0], hi, offset)
    else:
        segments.append((lo, hi, offset))


def _offset(zone: ZoneInfo, instant: datetime) -> timedelta:
    return instant.astimezone(zone).utcoffset() or timedelta(0)


def _find_change(zone: ZoneInfo, lo: datetime, hi: datetime, offset_lo: timedelta) -> datetime:
    """The first instant in (lo, hi] whose offset differs from offset_lo (to the second)."""
    while hi - lo > timedelta(seconds=1):
        mid = lo + (hi - lo) / 2
        mid = mid.replace(microsecond=0)
        if mid <= lo:
            mid = lo + timedelta(seconds=1)
        if _offset(zone, mid) == offset_lo:
            lo = mid
        else:
            hi = mid
    return hi


def _merge(intervals: Iterable[Interval]) -> Iterator[Interval]:
    ordered = sorted(intervals)
    if not ordered:
        return
    cur_lo, cur_hi = ordered[0]
    for lo, hi in ordered[1:]:
        if lo <= cur_hi:
            cur_hi = max(cur_hi, hi)
        else:
            yield (cur_lo, cur_hi)
            cur_lo, cur_hi = lo, hi
    yield (cur_lo, cur_hi)


_UNKNOWN = object()


class RememberedCalendar:
    """One ticket's view of its SLA calendar that remembers the answers of its facts (the same answers).

    A touched ticket's facts re-state every interval, stage and clock, and most have not changed since the
    last time: their working seconds and due times are looked up instead of computed again. The answers
    stay in one dict, so an answer found again makes no new key (new objects are work for the garbage
    collector); `settle()` after each facts computation forgets them all once they are more than twice
    what that computation asked for (a late event that re-folds the ticket leaves stale ones behind).
    """

    __slots__ = ("calendar", "always", "_known", "_asked")

    def __init__(self, calendar: WorkCalendar) -> None:
        self.calendar = calendar
        self.always = calendar.always
        self._known: dict[tuple, object] = {}
        self._asked = 0

    def working_seconds(self, start: datetime, end: datetime) -> float:
        self._asked += 1
        key = (start, end)
        found = self._known.get(key, _UNKNOWN)
        if found is _UNKNOWN:
            found = self._known[key] = self.calendar.working_seconds(start, end)
        return found  # type: ignore[return-value]

    def add(self, start: datetime, seconds: float, horizon_days: int = 800) -> datetime | None:
        self._asked += 1
        key = (start, seconds, horizon_days)
        found = self._known.get(key, _UNKNOWN)
        if found is _UNKNOWN:
            found = self._known[key] = self.calendar.add(start, seconds, horizon_days)
        return found  # type: ignore[return-value]

    def settle(self) -> None:
        if len(self._known) > 2 * self._asked + 16:
            self._known.clear()
        self._asked = 0
