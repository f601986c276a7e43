"""Worker settings: the batch bound that lets an apply's point reads run beside the inserts."""

from __future__ import annotations

import pytest

from streams.worker.conversations import MAX_CONVERSATIONS
from streams.worker.settings import MAX_BATCH_ROWS, Settings, SettingsError
from streams.worker.tickets import TICKET_CACHE_PER_PARTITION


def test_batch_rows_are_bounded():
    assert Settings().with_overrides(batch_max_rows=MAX_BATCH_ROWS).batch_max_rows == MAX_BATCH_ROWS
    with pytest.raises(SettingsError, match="batch_max_rows must be at most 30,000"):
        Settings().with_overrides(batch_max_rows=MAX_BATCH_ROWS + 1)


def test_a_key_that_left_an_lru_has_nothing_in_flight():
    # A batch being applied (under 2x the bound) and a batch's worth waiting for its commit: fewer uncommitted
    # records than keys either LRU holds, so the key it drops was last written by a commit that has finished.
    in_flight = 3 * MAX_BATCH_ROWS
    assert in_flight < TICKET_CACHE_PER_PARTITION
    assert in_flight < MAX_CONVERSATIONS
