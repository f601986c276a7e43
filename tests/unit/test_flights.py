"""Flushes in flight (streams/worker/flights.py): applies in order and one at a time, commits in order, whole
batches, each once; an apply runs while an earlier commit is still in progress; nothing commits after a commit
that gave up; the records waiting for a commit stay bounded."""

from __future__ import annotations

import asyncio
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from streams.worker.batch import Batch
from streams.worker.checkpoint import FlushAborted
from streams.worker.flights import Flights


class Recorder:
    def __init__(self, seed: int, abort_at: int | None = None) -> None:
        self.rng = random.Random(seed)
        self.applying = 0
        self.applied: list[int] = []
        self.commits: list[list[int]] = []
        self.abort_at = abort_at  # the commit holding this batch gives up
        self.most_waiting = 0
        self.flights: Flights | None = None

    async def pause(self) -> None:
        for _ in range(self.rng.randrange(4)):
            await asyncio.sleep(0)

    async def apply(self, n: int) -> int:
        assert self.applying == 0, "two applies at once"
        self.applying += 1
        await self.pause()
        self.applied.append(n)
        self.applying -= 1
        return n

    async def commit(self, applied: list) -> None:
        assert self.flights is not None
        self.most_waiting = max(self.most_waiting, self.flights.waiting)
        await self.pause()
        numbers = [n for _, n in applied]
        if self.abort_at is not None and self.abort_at in numbers:
            raise FlushAborted("stopping")
        self.commits.append(numbers)


def run(batches: list[int], seed: int, abort_at: int | None = None, max_waiting: int = 25,
        skip_room: frozenset[int] = frozenset()) -> Recorder:
    """`skip_room`: batches started without waiting for room, as when a revoke flushes while the consumer does."""
    recorder = Recorder(seed, abort_at)

    async def main() -> None:
        flights = recorder.flights = Flights(recorder.commit, max_waiting)
        for n, records in enumerate(batches):
            if n not in skip_room:
                await flights.room()
                assert flights.has_room()  # what a consumer asks before it starts a flush that is not full
            batch = Batch(records=records)
            flights.start(batch, lambda n=n: recorder.apply(n))
            await recorder.pause()
        await flights.drain()

    asyncio.run(main())
    return recorder


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(1, 10), min_size=1, max_size=30), st.integers(0, 10_000))
def test_every_batch_is_applied_in_order_and_committed_once_in_order(batches, seed):
    recorder = run(batches, seed)
    assert recorder.applied == list(range(len(batches)))
    assert [n for commit in recorder.commits for n in commit] == list(range(len(batches)))
    # room() lets a batch in only while at most max_waiting records wait, so a commit never holds much more
    assert recorder.most_waiting <= 25 + max(batches)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(1, 10), min_size=1, max_size=30), st.integers(0, 10_000), st.sets(st.integers(0, 29)))
def test_batches_started_without_room_still_apply_one_at_a_time_in_order(batches, seed, skip_room):
    recorder = run(batches, seed, skip_room=frozenset(skip_room))
    assert recorder.applied == list(range(len(batches)))
    assert [n for commit in recorder.commits for n in commit] == list(range(len(batches)))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(1, 10), min_size=2, max_size=30), st.integers(0, 10_000), st.data())
def test_nothing_commits_after_a_commit_that_gave_up(batches, seed, data):
    abort_at = data.draw(st.integers(0, len(batches) - 1))
    recorder = run(batches, seed, abort_at)
    committed = [n for commit in recorder.commits for n in commit]
    assert committed == list(range(len(committed)))  # a prefix, in order
    assert abort_at not in committed and all(n < abort_at for n in committed)


def test_the_next_batch_is_applied_while_the_one_before_commits():
    async def main() -> list[str]:
        steps: list[str] = []
        release = asyncio.Event()

        async def commit(applied: list) -> None:
            steps.append(f"commit {[n for _, n in applied]} begins")
            await release.wait()
            steps.append(f"commit {[n for _, n in applied]} ends")

        async def apply(n: int) -> int:
            steps.append(f"apply {n}")
            return n

        flights = Flights(commit, max_waiting=100)
        flights.start(Batch(records=1), lambda: apply(0))
        await flights.room()
        await asyncio.sleep(0)  # the committer takes batch 0
        flights.start(Batch(records=1), lambda: apply(1))
        flights.start(Batch(records=1), lambda: apply(2))
        await flights.room()
        release.set()
        await flights.drain()
        return steps

    assert asyncio.run(main()) == ["apply 0", "commit [0] begins", "apply 1", "apply 2", "commit [0] ends",
                                   "commit [1, 2] begins", "commit [1, 2] ends"]


def paced(steps) -> list[list[int]]:
    """Runs `steps(flights, start, committed)` against Flights paced an hour apart (a pace no test outlives):
    what commits without a drain did not wait for the pace. Returns the commits, as lists of batch numbers."""
    commits: list[list[int]] = []
    committed = asyncio.Event()

    async def commit(applied: list) -> None:
        commits.append([n for _, n in applied])
        committed.set()

    async def apply(n: int) -> int:
        return n

    async def main() -> None:
        flights = Flights(commit, max_waiting=10, pace_s=3600)
        numbers = iter(range(100))

        def start(records: int) -> None:
            n = next(numbers)
            flights.start(Batch(records=records), lambda: apply(n))

        async def settled() -> None:  # every apply done and the committer as far as it goes without waiting
            await flights.room()
            for _ in range(20):
                await asyncio.sleep(0)

        await asyncio.wait_for(steps(flights, start, settled), 10)

    asyncio.run(main())
    return commits


def test_small_commits_wait_for_the_pace_and_a_drain_does_not():
    async def steps(flights, start, settled):
        start(1)
        await settled()  # the first commit: no commit before it to pace it
        for _ in range(4):
            start(1)
        await settled()
        assert flights.waiting == 4  # applied, not committed: the pace holds them
        await flights.drain()

    assert paced(steps) == [[0], [1, 2, 3, 4]]  # one commit for the four


def test_a_backlog_commits_at_once_and_so_does_the_commit_after_it():
    async def steps(flights, start, settled):
        start(1)
        await settled()
        start(2)
        await settled()
        assert flights.waiting == 2
        start(3)  # five records wait: half of max_waiting, a backlog
        await settled()
        assert flights.waiting == 0
        start(1)  # the last of a backlog waits for nothing
        await settled()
        assert flights.waiting == 0
        start(1)  # after a small commit the pace holds again
        await settled()
        assert flights.waiting == 1
        await flights.drain()

    assert paced(steps) == [[0], [1, 2], [3], [4]]
