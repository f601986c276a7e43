"""Live answers shared between requests: an account's summary is computed once per change, not once per poll.

The live summary is computed on the event loop, the one ingestion runs on (from the account's live index:
7-8 ms for the demo's acme, more for an account with hundreds of thousands of messages a day). The
dashboard asks every second, once per open page. So every viewer of an account cost that loop time every
second, however little had changed.

An answer is kept and given again while both of these hold:
- nothing it reads has changed. The caller's `version` says what changed: the account's tickets,
  messages, calls, feedback and rep statuses, its configuration, the partitions held.
- it is at most `max_age_s` old. Time alone moves waits and SLA states, so an answer is at most that
  stale, and says so in its `now`.

An answer that was expensive (HOLD_FROM_S of loop time or more) is also given again after its account
changed, until it is HOLD_FACTOR times as old as its computation took on the loop: asking about a very
busy, very large account then costs the loop at most about a tenth of its time per question asked,
whatever the flush rate (ingestion comes first). Cheaper answers are never held: for most accounts an
applied event is in the next answer, as before.

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
HOLD_FACTOR = 10.0  # an expensive answer is held this many times its computation's loop time, changed or not
HOLD_FROM_S = 0.02  # what an answer must cost to be held (the demo's acme: 7-8 ms; a 100-ticket account: ~1 ms)


class LiveAnswers:
    def __init__(self, max_age_s: float = MAX_AGE_S, max_answers: int = MAX_ANSWERS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.max_age_s, self.max_answers, self.clock = max_age_s, max_answers, clock
        # key -> (version, computed at, the answer, [its computation's loop seconds, once done])
        self._answers: OrderedDict[Hashable, tuple[Hashable, float, asyncio.Future, list[float]]] = OrderedDict()
        self.computed = 0
        self.shared = 0
        self.held = 0  # given again although the account had changed: an expensive answer, held (HOLD_FACTOR)

    async def get(self, key: Hashable, version: Hashable, compute: Callable[[], Awaitable[Any]],
                  cost: Callable[[], float] | None = None) -> Any:
        """The answer for `key` as of `version`: a kept one, or `compute()`'s (kept for the next asker).
        `cost()`, once it is done: how long the computation held the event loop, in seconds."""
        if self.max_age_s <= 0:
            self._count_computed()
            return await compute()
        kept = self._answers.get(key)
        if kept is not None and not _failed(kept[2]):
            age = self.clock() - kept[1]
            if kept[0] == version and age <= self.max_age_s:
                return await self._again(key, kept, "shared")
            if kept[2].done() and kept[3][0] >= HOLD_FROM_S and age < HOLD_FACTOR * kept[3][0]:
                return await self._again(key, kept, "held")
        answer = asyncio.ensure_future(compute())
        entry = (version, self.clock(), answer, [0.0])
        self._answers[key] = entry
        self._answers.move_to_end(key)
        while len(self._answers) > self.max_answers:
            self._answers.popitem(last=False)
        self._count_computed()
        answer.add_done_callback(lambda done: self._done(key, entry, cost))
        return await asyncio.shield(answer)

    async def _again(self, key: Hashable, kept: tuple, result: str) -> Any:
        self._answers.move_to_end(key)
        if result == "held":
            self.held += 1
        else:
            self.shared += 1
        metrics.LIVE_ANSWERS.labels(result).inc()
        # shield: a caller that goes away (its client hung up) must not cancel the others' answer
        return await asyncio.shield(kept[2])

    def _count_computed(self) -> None:
        self.computed += 1
        metrics.LIVE_ANSWERS.labels("computed").inc()

    def _done(self, key: Hashable, entry: tuple, cost: Callable[[], float] | None) -> None:
        if _failed(entry[2]):
            if self._answers.get(key) is entry:
                del self._answers[key]
        elif cost is not None:
            entry[3][0] = cost()


def _failed(answer: asyncio.Future) -> bool:
    return answer.done() and (answer.cancelled() or answer.exception() is not None)
