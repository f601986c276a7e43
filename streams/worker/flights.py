"""Flushes in flight: batches are applied to memory as they come and committed behind, several as one.

A flush has two stages: apply (ticket state, facts, live figures: CPU on the
event loop) and commit (checkpoint.py: ClickHouse, alerts, offsets: mostly
waiting on the ClickHouse thread and the broker). Run one after the other,
a live event waited for the commit of the batch before its own (an insert
costs 10-15 ms however small, seven tables a flush: 125 ms of a 0.1 s
window), so batches grew and the live answer lagged by the commits.

So applies run as soon as a batch is due, and one committer commits
whatever has been applied meanwhile, all of it in one commit (batch.py
`merge_batches`: one insert per table, one state row per ticket). The
rules that keep a crash or a stop as safe as before:
- applies run one at a time, in batch order; so do commits, and a commit
  holds whole batches in order, so offsets are committed in order and
  never past a batch that is not stored;
- once a commit gave up (the worker is stopping), nothing after it is
  committed: all of it comes again after the restart;
- at most `max_waiting` records wait for a commit (`room`), which bounds
  memory and how far the live answer may run ahead of ClickHouse.

Commits are paced: a commit begins at least `pace_s` after the one before
it began, unless half of `max_waiting` waits (a backlog), the one before
was that large (the end of a backlog), or someone drains (a revoke, an
eviction, a stop). At a steady 1,000 events/s the committer
otherwise ran back to back, four small commits a second: about 30 inserts a
second, each its own part for ClickHouse to write and merge, which took two
thirds of a core and left the event loop waiting for one (docs/performance.md,
"Paced commits"). What waits is ClickHouse, the offsets and the alerts of
touched tickets (timed SLA alerts do not wait): applies, and so the live
answer, do not wait for commits.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from streams.worker.batch import Batch
from streams.worker.checkpoint import FlushAborted

log = logging.getLogger(__name__)
Applied = tuple[Batch, Any]  # a batch and what its apply returned
Commit = Callable[[list[Applied]], Awaitable[None]]


class Flights:
    def __init__(self, commit: Commit, max_waiting: int, pace_s: float = 0.0) -> None:
        self._commit = commit
        self.max_waiting = max_waiting
        self.pace_s = pace_s
        self._last_commit = float("-inf")  # monotonic time the last commit began
        self._last_small = False  # it held less than a backlog: the stream is quiet
        self._hurry = 0  # drains waiting: the next commit does not wait for its pace
        self._wake = asyncio.Event()  # a paced committer looks again (a backlog or a drain)
        self._last_apply: asyncio.Future | None = None
        self._applied: list[Applied] = []  # applied, waiting for the committer
        self._committing: list[Applied] = []
        self._committer: asyncio.Future | None = None
        self._changed = asyncio.Event()  # a commit finished: room() and drain() look again
        self._aborted = False
        self._failed: BaseException | None = None

    @property
    def waiting(self) -> int:
        """Records applied and not yet committed."""
        return sum(b.records for b, _ in (*self._applied, *self._committing))

    def start(self, batch: Batch, apply: Callable[[], Awaitable[Any]]) -> None:
        """Apply this batch after every batch started before it; its commit follows theirs."""
        self._last_apply = asyncio.ensure_future(self._apply(batch, apply, self._last_apply))

    async def _apply(self, batch: Batch, apply: Callable[[], Awaitable[Any]], previous: asyncio.Future | None) -> None:
        if previous is not None:
            await previous  # an apply that failed fails every one after it (room and drain raise it)
        result = await apply()
        self._applied.append((batch, result))
        if self._committer is None or self._committer.done():
            self._committer = asyncio.ensure_future(self._commits())
        elif self._backlog():
            self._wake.set()

    def _backlog(self) -> bool:
        return self.waiting >= self.max_waiting // 2

    async def _paced(self) -> None:
        """Until `pace_s` after the last commit began, if it was small: not in or right after a backlog (whose
        last records would wait for nothing), nor while there is a drain."""
        while self._last_small and not self._hurry and not self._backlog():
            left = self._last_commit + self.pace_s - time.monotonic()
            if left <= 0:
                return
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), left)

    async def _commits(self) -> None:
        while self._applied and self._failed is None:
            await self._paced()
            self._last_commit, self._last_small = time.monotonic(), not self._backlog()
            self._committing, self._applied = self._applied, []
            try:
                if not self._aborted:
                    await self._commit(self._committing)
            except FlushAborted as exc:
                self._aborted = True  # the worker is stopping: nothing after this is committed either
                log.warning("flush not committed: %s (its records come again)", exc)
            except BaseException as exc:
                self._failed = exc  # no later batch may commit past this one
                raise
            finally:
                self._committing = []
                self._changed.set()

    def has_room(self) -> bool:
        """Whether `room()` would return at once."""
        return (self._last_apply is None or self._last_apply.done()) and self.waiting <= self.max_waiting

    async def room(self) -> None:
        """Until a new batch may be applied: the last apply finished and few enough records wait for a commit."""
        if self._last_apply is not None:
            await self._last_apply
        while self.waiting > self.max_waiting:
            await self._next_change()

    async def drain(self) -> None:
        """Until every batch started so far is committed (revoke, stop, eviction), without waiting for a pace."""
        self._hurry += 1
        self._wake.set()
        try:
            if self._last_apply is not None:
                await self._last_apply
            while self._applied or self._committing:
                await self._next_change()
            self._raise_failure()
        finally:
            self._hurry -= 1

    async def _next_change(self) -> None:
        self._raise_failure()
        self._changed.clear()
        await self._changed.wait()

    def _raise_failure(self) -> None:
        if self._failed is not None:
            raise RuntimeError(f"a commit failed: {self._failed!r}") from self._failed
