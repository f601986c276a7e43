"""Live answers shared between requests: an account's summary is computed once per change, not once per poll.

The live summary is computed on the event loop, the one ingestion runs on, over the account's tickets of
the last 50 hours (about 90 ms for the demo's acme). The dashboard asks every second, once per open page.
So every viewer of an account cost that loop time every second, however little had changed.

An answer is kept and given again while both of these hold:
- nothing it reads has changed. The caller's `version` says what changed: the account's tickets,
  messages, calls, feedback and rep statuses, its configuration, the partitions held.
- it is at most `max_age_s` old. Time alone moves waits and SLA states, so an answer is at most that
  stale, and says so in its `now`.

Requests for an answer that is being computed (peers are being asked) wait for that one computation. A
failed computation is not kept.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from typing import Any

from streams.worker import metrics

MAX_AGE_S = 1.0  # the dashboard polls every second; its figures are "at most a second old"
MAX_ANSWERS = 64  # kept answers (LRU): one per account, filters, figure and `at` asked lately


class LiveAnswers:
    def __init__(self, max_age_s: float = MAX_AGE_S, max_answers: int = MAX_ANSWERS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.max_age_s, self.max_answers, self.clock = max_age_s, max_answers, clock
        self._answers: OrderedDict[Hashable, tuple[Hashable, float, asyncio.Future]] = OrderedDict()
        self.computed = 0
        self.shared = 0

    async def get(self, key: Hashable, version: Hashable, compute: Callable[[], Awaitable[Any]]) -> Any:
        """The answer for `key` as of `version`: a kept one, or `compute()`'s (kept for the next asker)."""
        if self.max_age_s <= 0:
            self._count_computed()
            return await compute()
        kept = self._answers.get(key)
        if kept is not None and kept[0] == version and self.clock() - kept[1] <= self.max_age_s \
                and not _failed(kept[2]):
            self._answers.move_to_end(key)
            self.shared += 1
            metrics.LIVE_ANSWERS.labels("shared").inc()
            # shield: a caller that goes away (its client hung up) must not cancel the others' answer
            return await asyncio.shield(kept[2])
        answer = asyncio.ensure_future(compute())
        entry = (version, self.clock(), answer)
        self._answers[key] = entry
        self._answers.move_to_end(key)
        while len(self._answers) > self.max_answers:
            self._answers.popitem(last=False)
        self._count_computed()
        answer.add_done_callback(lambda done: self._drop_failed(key, entry))
        return await asyncio.shield(answer)

    def _count_computed(self) -> None:
        self.computed += 1
        metrics.LIVE_ANSWERS.labels("computed").inc()

    def _drop_failed(self, key: Hashable, entry: tuple[Hashable, float, asyncio.Future]) -> None:
        if _failed(entry[2]) and self._answers.get(key) is entry:
            del self._answers[key]


def _failed(answer: asyncio.Future) -> bool:
    return answer.done() and (answer.cancelled() or answer.exception() is not None)
