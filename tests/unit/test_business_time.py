"""Business-time arithmetic against a brute-force reference that walks the clock minute by minute."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streams.core.business_time import DAY_MINUTES, WorkCalendar, parse_ranges
from tests.support.references import calendars, reference_add, reference_minutes


@settings(max_examples=150, deadline=None)
@given(calendars(), st.integers(0, 3 * DAY_MINUTES), st.integers(0, 3 * DAY_MINUTES))
def test_working_minutes_match_the_minute_walk(cal_anchor, offset, length):
    cal, anchor = cal_anchor
    start = anchor + timedelta(minutes=offset)
    end = start + timedelta(minutes=length)
    assert cal.working_seconds(start, end) == 60 * reference_minutes(cal, start, end)


@settings(max_examples=120, deadline=None)
@given(calendars(), st.integers(0, 2 * DAY_MINUTES), st.integers(1, 2000))
def test_adding_working_time_matches_the_minute_walk(cal_anchor, offset, minutes):
    cal, anchor = cal_anchor
    start = anchor + timedelta(minutes=offset)
    expected = reference_add(cal, start, minutes)
    got = cal.add(start, minutes * 60, horizon_days=20)
    if expected is None:
        assert got is None or got > start + timedelta(minutes=20_000)
    else:
        assert got == expected


@settings(max_examples=100, deadline=None)
@given(calendars(), st.integers(0, 2 * DAY_MINUTES), st.integers(0, DAY_MINUTES), st.integers(0, DAY_MINUTES))
def test_working_time_is_additive_over_adjacent_spans(cal_anchor, offset, a, b):
    cal, anchor = cal_anchor
    t0 = anchor + timedelta(minutes=offset)
    t1, t2 = t0 + timedelta(minutes=a), t0 + timedelta(minutes=a + b)
    assert cal.working_seconds(t0, t2) == cal.working_seconds(t0, t1) + cal.working_seconds(t1, t2)


def test_dst_days_in_stockholm_count_wall_clock_hours():
    nine_to_five = parse_ranges(["09:00-17:00"])
    cal = WorkCalendar("Europe/Stockholm", (nine_to_five,) * 7)
    # The clocks jump at 02:00 on 29 March: a 9-17 day is still 8 working hours.
    assert cal.working_seconds(datetime(2026, 3, 29, tzinfo=UTC), datetime(2026, 3, 30, tzinfo=UTC)) == 8 * 3600
    night = WorkCalendar("Europe/Stockholm", (parse_ranges(["22:00-06:00"]),) * 7)
    # Spring forward: the night of 28-29 March has 7 real hours; fall back (24-25 Oct) has 9.
    spring = night.working_seconds(datetime(2026, 3, 28, 12, tzinfo=UTC), datetime(2026, 3, 29, 12, tzinfo=UTC))
    autumn = night.working_seconds(datetime(2026, 10, 24, 12, tzinfo=UTC), datetime(2026, 10, 25, 12, tzinfo=UTC))
    assert (spring, autumn) == (7 * 3600, 9 * 3600)


def test_holidays_empty_days_and_24_7():
    weekdays = (parse_ranges(["09:00-17:00"]),) * 5 + ((), ())
    cal = WorkCalendar("America/New_York", weekdays, frozenset({date(2026, 11, 26)}))  # Thanksgiving
    friday_4pm = datetime(2026, 11, 25, 21, tzinfo=UTC)  # Wed 16:00 in New York
    # One hour left on Wednesday, Thursday is a holiday, then Friday from 09:00 (14:00 UTC).
    assert cal.add(friday_4pm, 2 * 3600) == datetime(2026, 11, 27, 15, tzinfo=UTC)
    assert WorkCalendar("UTC", ((),) * 7).add(friday_4pm, 60) is None
    always = WorkCalendar.twenty_four_seven()
    assert always.add(friday_4pm, 90) == friday_4pm + timedelta(seconds=90)
    assert always.working_seconds(friday_4pm, friday_4pm + timedelta(days=2)) == 2 * 86400


@pytest.mark.parametrize("text", ["9-17", "09:00", "25:00-26:00", "09:60-10:00", "24:00-01:00"])
def test_bad_ranges_are_rejected(text):
    with pytest.raises(ValueError):
        parse_ranges([text])


def test_ranges_past_midnight_and_full_days():
    assert parse_ranges(["22:00-06:00", "00:00-24:00", "08:30-12:15"]) == ((1320, 1800), (0, 1440), (510, 735))


def _walked_seconds(cal: WorkCalendar, start: datetime, end: datetime) -> float:
    """The day walk the timeline replaced: every working interval of the span, summed."""
    return sum((b - a) // timedelta(microseconds=1) for a, b in cal.intervals(start, end)) / 1_000_000


def _walked_add(cal: WorkCalendar, start: datetime, seconds: float) -> datetime | None:
    left = timedelta(seconds=seconds)
    for a, b in cal.intervals(start, start + timedelta(days=140)):
        if b - a >= left:
            return a + left
        left -= b - a
    return None


# Spans of up to 100 days at millisecond resolution cross the timeline's four-week chunks, DST changes
# and holidays; the minute-walk tests above cover three days only.
@settings(max_examples=150, deadline=None)
@given(calendars(), st.integers(-40 * 86_400_000, 40 * 86_400_000), st.integers(0, 100 * 86_400_000))
def test_long_spans_match_the_day_walk(cal_anchor, offset_ms, length_ms):
    cal, anchor = cal_anchor
    start = anchor + timedelta(milliseconds=offset_ms)
    end = start + timedelta(milliseconds=length_ms)
    assert cal.working_seconds(start, end) == _walked_seconds(cal, start, end)


@settings(max_examples=150, deadline=None)
@given(calendars(), st.integers(-40 * 86_400_000, 40 * 86_400_000), st.integers(1, 30 * 86_400_000))
def test_adding_long_targets_matches_the_day_walk(cal_anchor, offset_ms, target_ms):
    cal, anchor = cal_anchor
    start = anchor + timedelta(milliseconds=offset_ms)
    expected = _walked_add(cal, start, target_ms / 1000)
    got = cal.add(start, target_ms / 1000, horizon_days=140)
    assert got == expected


def test_a_target_past_the_horizon_is_never_reached():
    mondays = WorkCalendar("UTC", (parse_ranges(["09:00-10:00"]),) + ((),) * 6)
    monday = datetime(2026, 11, 23, 8, tzinfo=UTC)
    assert mondays.add(monday, 2 * 3600, horizon_days=7) is None  # the second hour is the next Monday's
    assert mondays.add(monday, 2 * 3600, horizon_days=8) == datetime(2026, 11, 30, 10, tzinfo=UTC)
    assert mondays.add(monday, 3600, horizon_days=1) == datetime(2026, 11, 23, 10, tzinfo=UTC)
