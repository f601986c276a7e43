"""The report table for people: durations, periods and groups as people read them (issue 11)."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from deskpulse.output import for_people, human_duration, period_label


@pytest.mark.parametrize(("seconds", "text"), [
    (0, "0s"), (42.4, "42s"), (245, "4m 05s"), (49244.7, "13h 40m"), (183_600, "2d 03h"), (-17988, "-4h 59m"),
    (None, ""), (float("nan"), ""),
])
def test_human_duration(seconds, text):
    assert human_duration(seconds) == text


@given(st.floats(min_value=0, max_value=10**8))
def test_human_duration_never_drops_more_than_its_smallest_unit(seconds):
    text = human_duration(seconds)
    units = {"d": 86_400, "h": 3_600, "m": 60, "s": 1}
    parts = [(int(p[:-1]), units[p[-1]]) for p in text.split()]
    shown = sum(n * u for n, u in parts)
    assert abs(shown - seconds) < parts[-1][1] + 1  # within the smallest unit shown (and the rounding)


@pytest.mark.parametrize(("start", "freq", "label"), [
    (date(2026, 11, 16), "week", "2026-W47"), (date(2026, 11, 1), "month", "2026-11"),
    (date(2026, 10, 1), "quarter", "2026-Q4"), (date(2026, 1, 1), "year", "2026"),
    (date(2026, 11, 23), "day", "2026-11-23"), (date(2026, 12, 28), "week", "2026-W53"),
])
def test_period_labels(start, freq, label):
    assert period_label(start, freq) == label


def test_a_report_row_for_people():
    columns = ["account_id", "period", "group", "tickets", "avg_wait_s"]
    shown, rows = for_people(columns, [["acme", "2026-10-01", "", 3, 49244.7]], freq="quarter", by="rep")
    assert shown == ["account_id", "period", "group", "tickets", "avg_wait"]
    assert rows == [["acme", "2026-Q4", "(unassigned)", 3, "13h 40m"]]
