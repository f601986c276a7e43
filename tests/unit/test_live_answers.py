"""Live answers shared between requests (streams/worker/live_answers.py): an answer is given again only while
nothing it read has changed and it is young enough; concurrent askers share one computation; a failure or a
caller that goes away is never what the next asker gets; the answers kept stay bounded."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from schemas.events import ANY_EVENT
from streams.core.config_store import ConfigStore
from streams.core.replies import Step
from streams.worker.facts_keeper import FactsKeeper
from streams.worker.live_answers import LiveAnswers
from streams.worker.live_keeper import LiveKeeper
from streams.worker.sla_alerter import SlaAlerter
from tests.support.events import event, message


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Counting:
    """A computation that returns how many times it ran, after yielding `pauses` times."""

    def __init__(self, pauses: int = 0) -> None:
        self.runs = 0
        self.pauses = pauses

    async def __call__(self) -> int:
        self.runs += 1
        run = self.runs
        for _ in range(self.pauses):
            await asyncio.sleep(0)
        return run


def run(coro):
    return asyncio.run(coro)


def test_an_answer_is_given_again_only_while_its_version_holds_and_it_is_young():
    async def main():
        clock, compute = Clock(), Counting()
        answers = LiveAnswers(max_age_s=1.0, clock=clock)
        assert await answers.get("acme", 1, compute) == 1
        clock.now += 0.5
        assert await answers.get("acme", 1, compute) == 1  # nothing changed, half a second old
        assert await answers.get("acme", 2, compute) == 2  # the account changed
        clock.now += 1.0
        assert await answers.get("acme", 2, compute) == 2  # exactly the age allowed
        clock.now += 0.01
        assert await answers.get("acme", 2, compute) == 3  # older than that: time alone moves the figures
        assert await answers.get("other", 2, compute) == 4  # another key is another answer
        assert (answers.computed, answers.shared) == (4, 2)

    run(main())


def test_askers_during_a_computation_share_it():
    async def main():
        compute = Counting(pauses=5)
        answers = LiveAnswers(clock=Clock())
        got = await asyncio.gather(*(answers.get("acme", 1, compute) for _ in range(10)))
        assert got == [1] * 10 and compute.runs == 1

    run(main())


def test_a_failed_computation_is_not_kept():
    async def main():
        answers = LiveAnswers(clock=Clock())
        calls = []

        async def failing():
            calls.append(1)
            await asyncio.sleep(0)
            raise RuntimeError("peer exploded")

        with pytest.raises(RuntimeError):
            await answers.get("acme", 1, failing)
        await asyncio.sleep(0)
        assert await answers.get("acme", 1, Counting()) == 1  # computed afresh, not the failure again
        assert len(calls) == 1

    run(main())


def test_a_caller_that_goes_away_does_not_cancel_the_others_answer():
    async def main():
        compute = Counting(pauses=5)
        answers = LiveAnswers(clock=Clock())
        first = asyncio.ensure_future(answers.get("acme", 1, compute))
        await asyncio.sleep(0)
        second = asyncio.ensure_future(answers.get("acme", 1, compute))
        await asyncio.sleep(0)
        first.cancel()  # its client hung up
        assert await second == 1
        assert await answers.get("acme", 1, compute) == 1  # still kept
        assert compute.runs == 1

    run(main())


def test_the_answers_kept_are_bounded_least_recently_asked_first_out():
    async def main():
        compute = Counting()
        answers = LiveAnswers(max_answers=3, clock=Clock())
        for key in "abc":
            await answers.get(key, 1, compute)
        await answers.get("a", 1, compute)  # asked again: the most recent
        await answers.get("d", 1, compute)  # pushes out b
        assert len(answers._answers) == 3
        runs = compute.runs
        await answers.get("a", 1, compute)
        await answers.get("c", 1, compute)
        assert compute.runs == runs
        await answers.get("b", 1, compute)
        assert compute.runs == runs + 1

    run(main())


def test_no_age_allowed_means_every_request_computes():
    async def main():
        compute = Counting()
        answers = LiveAnswers(max_age_s=0, clock=Clock())
        assert [await answers.get("acme", 1, compute) for _ in range(3)] == [1, 2, 3]

    run(main())


def _keeper():
    config = ConfigStore()
    facts = FactsKeeper(config, SlaAlerter("localhost:9092", "sla-alerts", 3600))
    return LiveKeeper(config, facts, lambda partition, key: None)


def test_an_accounts_version_moves_with_its_own_changes_only():
    keeper = _keeper()
    acme, globex = keeper.version("acme"), keeper.version("globex")
    keeper.changed({"globex"})
    assert keeper.version("acme") == acme and keeper.version("globex") != globex
    keeper.changed({"acme"})
    assert keeper.version("acme") != acme
    before = keeper.version("acme")
    keeper.changed_all()  # partitions came or went
    assert keeper.version("acme") != before


def test_pruning_forgets_accounts_left_with_nothing_and_no_kept_answer_survives_it():
    keeper = _keeper()
    now = datetime.now(UTC)
    old = now - timedelta(hours=60)
    call = ANY_EVENT.validate_python(event("call.ended", account="spam", at=old.isoformat(), call_id="c",
                                           rep_id="r", outcome="completed",
                                           started_at=(old - timedelta(seconds=1)).isoformat(), duration_s=1.0))
    keeper.add(call, 0)
    keeper.changed({"spam", "acme"})
    keeper.prune(now - timedelta(hours=15))  # the call is still within the 50 hours kept then
    assert "spam" in keeper._changes
    versions = keeper.version("spam"), keeper.version("acme")
    keeper.prune(now)
    assert keeper.calls == {0: {}} and "spam" not in keeper._changes and "acme" not in keeper._changes
    assert keeper.version("spam") != versions[0] and keeper.version("acme") != versions[1]
    quiet = keeper.version("acme")
    keeper.prune(now)  # nothing left to forget: answers stay shared
    assert keeper.version("acme") == quiet
    ghost = keeper.version("ghost")  # an answer kept for an account with nothing here
    keeper.changed({"ghost"})  # e.g. an event the state refused
    keeper.prune(now)  # forgets its count: the count it starts over from must not match the kept answer
    assert keeper.version("ghost") != ghost and "ghost" not in keeper._changes


def _step(kind: str, at: datetime, event_id: str) -> Step:
    return Step(at, event_id, kind, "anna" if kind == "rep" else "c1", "email", "new" if kind == "created" else "")


def test_the_live_index_follows_marked_changes_evictions_and_partitions_and_the_check_finds_the_rest():
    keeper = _keeper()
    folds = keeper.facts.folds
    now = datetime(2026, 11, 2, 15, tzinfo=UTC)  # not the clock: half an hour before it may be yesterday
    for t in ("A", "B"):
        folds.add(0, ("acme", t), _step("created", now - timedelta(minutes=30), f"{t}c"))
    folds.add(1, ("acme", "C"), _step("created", now - timedelta(minutes=30), "Cc"))
    keeper.touch({("acme", "A"): 0, ("acme", "B"): 0, ("acme", "C"): 1})

    def today():
        return keeper.partial("acme", {}, now)["today"]

    assert sorted(today()["new_tickets"]) == ["A", "B", "C"] and keeper.index_stats()["tickets"] == 3
    # a customer's second message changes no metric and touches nothing: the applied event marks its ticket
    folds.add(0, ("acme", "A"), _step("customer", now - timedelta(minutes=20), "m1"))
    keeper.touch({("acme", "A"): 0})
    assert today()["messages_received"] == {"A": 1}
    folds.add(0, ("acme", "A"), _step("customer", now - timedelta(minutes=10), "m2"))
    second = ANY_EVENT.validate_python({**message("A"), "account_id": "acme", "ticket_id": "A"})
    keeper.applied([], [(second, None)], [])
    assert today()["messages_received"] == {"A": 2}
    # evicted: gone from the live set and the index at once
    del folds.partitions[0][("acme", "B")]
    keeper.evicted()
    assert sorted(today()["new_tickets"]) == ["A", "C"] and ("acme", "B") not in keeper.recent["acme"]
    # a partition revoked takes its tickets' views with it
    keeper.forget(1)
    assert today()["new_tickets"] == ["A"] and keeper.index_stats()["tickets"] == 1
    keeper._check_indexes()
    assert keeper.repaired == 0
    # a change nothing marked: the check finds and mends it, and counts it
    folds.add(0, ("acme", "A"), _step("rep", now - timedelta(minutes=5), "r1"))
    assert today()["messages_sent"] == {}
    keeper._check_indexes()
    assert keeper.repaired == 1 and today()["messages_sent"] == {"A": 1}


def test_an_account_with_nothing_live_gets_an_answer_but_no_index():
    keeper = _keeper()
    part = keeper.partial("nobody-here", {}, datetime.now(UTC))
    assert part["today"]["new_tickets"] == [] and keeper.index_stats()["accounts"] == 0


def test_an_expensive_answer_is_held_for_ten_times_its_cost_even_after_a_change_a_cheap_one_never():
    async def main():
        clock, compute = Clock(), Counting()
        answers = LiveAnswers(max_age_s=1.0, clock=clock)
        assert await answers.get("big", 1, compute, lambda: 0.3) == 1  # it held the loop 0.3 s
        clock.now += 2.9
        assert await answers.get("big", 2, compute, lambda: 0.3) == 1  # changed, but 2.9 s < 10 x 0.3 s
        assert (answers.computed, answers.held, answers.shared) == (1, 1, 0)
        clock.now += 0.1
        assert await answers.get("big", 2, compute, lambda: 0.3) == 2  # 3 s old: computed again
        assert await answers.get("small", 1, compute, lambda: 0.019) == 3
        clock.now += 0.01
        assert await answers.get("small", 2, compute, lambda: 0.019) == 4  # under 20 ms: never held, fresh
        assert await answers.get("small", 2, compute) == 4  # unchanged: shared as before
        assert await answers.get("edge", 1, compute, lambda: 0.02) == 5
        clock.now += 0.19
        assert await answers.get("edge", 2, compute, lambda: 0.02) == 5  # 20 ms: held 200 ms

    run(main())
