"""Business-hour ranges as people write them ("09:00-17:00", "22:00-06:00"), parsed to minutes.

Part of the configuration vocabulary, so it lives with the models: the
config schema validates with it and the business-time core computes with
its output.
"""

from __future__ import annotations

from collections.abc import Sequence

DAY_MINUTES = 24 * 60


def parse_ranges(texts: Sequence[str]) -> tuple[tuple[int, int], ...]:
    """'09:00-17:00' style ranges to minutes; an end at or before the start runs past midnight."""
    out = []
    for text in texts:
        try:
            lo_text, hi_text = text.split("-")
            lo, hi = _minutes(lo_text), _minutes(hi_text)
        except ValueError:
            raise ValueError(f"{text!r} is not a range like 09:00-17:00") from None
        if lo >= DAY_MINUTES:
            raise ValueError(f"{text!r} starts at or after 24:00")
        if hi <= lo:
            hi += DAY_MINUTES  # runs past midnight
        out.append((lo, hi))
    return tuple(out)


def _minutes(text: str) -> int:
    hours, minutes = text.strip().split(":")
    h, m = int(hours), int(minutes)
    if not (0 <= h <= 24 and 0 <= m < 60) or (h == 24 and m):
        raise ValueError(text)
    return h * 60 + m
