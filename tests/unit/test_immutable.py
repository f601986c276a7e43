"""`immutable` records behave as frozen dataclasses do where the core relies on it: equality, hashing."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from streams.core.replies import ReplyState, Step, _Log

pytestmark = pytest.mark.unit
AT = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def test_equal_records_hash_alike_and_replace_makes_a_new_one():
    a, b = Step(AT, "e1", "customer", "c1"), Step(AT, "e1", "customer", "c1")
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1
    c = replace(a, who="c2")
    assert c != a and a.who == "c1"


def test_a_field_left_out_of_comparison_stays_out_of_equality_and_hash():
    with_log, without = ReplyState(created_at=AT, log=_Log()), ReplyState(created_at=AT)
    assert with_log == without and hash(with_log) == hash(without)
