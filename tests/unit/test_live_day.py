"""Local days and "the same time yesterday", against a minute-by-minute walk of the wall clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from streams.core.live_day import day_bounds, local_date, same_time_yesterday
from tests.support.references import ANCHORS, ZONES

# America/Santiago and America/Havana change their clocks at midnight: some days start at 01:00.
ALL_ZONES = [*ZONES, "America/Santiago", "America/Havana"]
instants = st.builds(lambda anchor, minutes: anchor + timedelta(minutes=minutes),
                     st.sampled_from(ANCHORS + [datetime(2026, 9, 6, tzinfo=UTC), datetime(2026, 4, 5, tzinfo=UTC)]),
                     st.integers(-3 * 1440, 3 * 1440))


@settings(max_examples=300, deadline=None)
@given(instants, st.sampled_from(ALL_ZONES))
def test_a_day_runs_from_the_first_minute_showing_its_date_to_the_next_days(now, name):
    zone = ZoneInfo(name)
    day = local_date(now, zone)
    start, end = day_bounds(day, zone)
    assert start <= now < end
    assert local_date(start, zone) == day and local_date(start - timedelta(minutes=1), zone) < day
    assert local_date(end, zone) > day and local_date(end - timedelta(minutes=1), zone) == day
    assert timedelta(hours=22) <= end - start <= timedelta(hours=26)


@settings(max_examples=300, deadline=None)
@given(instants, st.sampled_from(ALL_ZONES))
def test_same_time_yesterday_shows_the_same_wall_clock_or_the_first_after_a_gap(now, name):
    zone = ZoneInfo(name)
    now = now.replace(second=0, microsecond=0)
    then = same_time_yesterday(now, zone)
    wall = now.astimezone(zone).replace(tzinfo=None) - timedelta(days=1)
    # reference: walk yesterday minute by minute and take the first minute whose wall clock is >= wall
    start, end = day_bounds(wall.date(), zone)
    minute = start
    while minute < end and minute.astimezone(zone).replace(tzinfo=None) < wall:
        minute += timedelta(minutes=1)
    assert then == minute


def test_a_dst_day_has_23_hours_and_yesterday_lines_up_by_wall_clock():
    zone = ZoneInfo("Europe/Stockholm")
    start, end = day_bounds(datetime(2026, 3, 29).date(), zone)
    assert end - start == timedelta(hours=23)
    now = datetime(2026, 3, 30, 8, 0, tzinfo=UTC)  # 10:00 CEST on the day after spring-forward
    assert same_time_yesterday(now, zone) == datetime(2026, 3, 29, 8, 0, tzinfo=UTC)  # 10:00 CEST, 24h earlier
    now = datetime(2026, 3, 29, 12, 0, tzinfo=UTC)  # 14:00 CEST on the short day
    assert same_time_yesterday(now, zone) == datetime(2026, 3, 28, 13, 0, tzinfo=UTC)  # 14:00 CET, 23h earlier
