"""Facts rows coalesced across flushes under a backlog (facts_keeper.flush_rows): same final rows, fewer of them.

The reference is the same keeper with no window: a row for every touched ticket at every flush.
"""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from deskpulse.account_config import config_event, example
from schemas.events import ConfigUpdated
from streams.core.config_store import ConfigStore
from streams.core.folds import TicketFolds
from streams.core.replies import Step
from streams.core.ticket_properties import TicketState
from streams.worker.facts_keeper import FactsKeeper
from streams.worker.sla_alerter import SlaAlerter
from tests.support.references import T0

TICKETS = [("acme", f"t{i}") for i in range(4)]
STATES = {key: TicketState(key[0], key[1], T0, {"priority": "urgent", "team_id": "billing"},
                           {"priority": (T0, "p"), "team_id": (T0, "p")}) for key in TICKETS}
KINDS = [("customer", "c1", ""), ("rep", "anna", ""), ("closed", "", "closed"), ("opened", "", "open")]


def keeper() -> FactsKeeper:
    config = ConfigStore()
    config.apply(ConfigUpdated.model_validate(config_event(example("acme"))))  # urgent tickets have SLA targets
    facts = FactsKeeper(config, SlaAlerter("localhost:9092", "sla-alerts", 3600))
    facts.alerter._owned.add(0)
    for key in TICKETS:
        facts.folds.add(0, key, Step(T0, f"{key[1]}-created", "created", stage="new"))
    return facts


def state_of(partition, key):
    return STATES[key]


def written(rows) -> dict:
    """ticket -> its row without computed_at and version (they differ by when it was written)."""
    return {row[1]: row[:-2] for row in rows._rows}


# a flush: (steps added before it: (ticket, minutes after T0, kind)), seconds since the last flush, coalescing or not
flushes = st.lists(st.tuples(st.lists(st.tuples(st.integers(0, 3), st.integers(1, 3000), st.integers(0, 3)),
                                      max_size=6),
                             st.floats(0, 4), st.booleans()), min_size=1, max_size=25)


@settings(max_examples=300, deadline=None)
@given(flushes, st.floats(0.5, 5))
def test_coalesced_rows_end_as_the_rows_of_every_flush(plan, window):
    coalescing, reference = keeper(), keeper()
    last_coalesced: dict = {}
    last_reference: dict = {}
    first_touch: dict = {}  # ticket -> when its waiting began
    now = 0.0
    for number, (steps, gap, backlog) in enumerate(plan, start=1):
        now += gap
        for i, (ticket, minutes, kind) in enumerate(steps):
            who, sender, stage = KINDS[kind]
            step = Step(T0 + timedelta(minutes=minutes), f"{number}-{i}", who, sender, stage=stage)
            for facts in (coalescing, reference):
                facts.folds.add(0, TICKETS[ticket], step)
        touched_now = dict(coalescing.folds.touched)
        rows, touched = coalescing.flush_rows(state_of, now, window if backlog else 0.0, number)
        expected, _ = reference.flush_rows(state_of, now, 0.0, number)
        last_coalesced.update(written(rows))
        last_reference.update(written(expected))
        for key in touched_now:
            first_touch.setdefault(key[1], now)
        stated = written(rows)
        assert set(touched) >= {("acme", t) for t in stated} | set(touched_now)
        for ticket in stated:
            # never sooner than the window after the first touch, unless no backlog asked for everything
            began = first_touch.pop(ticket)
            assert not backlog or now >= began + window
        for ticket in set(first_touch) - set(stated):
            assert ("acme", ticket) in coalescing.pending
        if not backlog:
            assert not coalescing.pending and not first_touch
        waiting = [flush for _, _, flush in coalescing.pending.values()]
        assert coalescing.oldest_pending() == (min(waiting) if waiting else None)
        for key in coalescing.pending:  # no alert acts on clocks its waiting row would change
            assert key not in coalescing.alerter.watched
        for key in set(TICKETS) - set(coalescing.pending):
            a, b = coalescing.alerter.watched.get(key), reference.alerter.watched.get(key)
            assert (a and a.clocks) == (b and b.clocks), key
    rows, _ = coalescing.flush_rows(state_of, now, 0.0, len(plan) + 1)  # a quiet moment, a revoke: everything
    last_coalesced.update(written(rows))
    assert not coalescing.pending
    assert last_coalesced == last_reference


def test_a_backlog_writes_a_busy_tickets_row_once_per_window():
    facts = keeper()
    facts.flush_rows(state_of, 0.0, 0.0, 0)  # the creations
    counts = []
    for n in range(1, 11):  # ten flushes a second apart, each with a message of t0
        facts.folds.add(0, TICKETS[0], Step(T0 + timedelta(minutes=n), f"m{n}", "customer" if n % 2 else "rep",
                                           "c1" if n % 2 else "anna"))
        rows, touched = facts.flush_rows(state_of, float(n), 3.0, n)
        assert TICKETS[0] in touched  # the live keeper and the alerter hear of it every time
        counts.append(rows.rows)
    assert counts == [0, 0, 0, 1, 0, 0, 0, 1, 0, 0]  # first touched at 1 and 5: written at 4 and 8, with 4 and 8's
    assert facts.oldest_pending() == 9
    assert facts.flush_rows(state_of, 10.5, 0.0, 11)[0].rows == 1  # a quiet moment: 9 and 10's
    assert not facts.pending


def test_forgotten_partitions_leave_nothing_waiting():
    facts = keeper()
    facts.flush_rows(state_of, 0.0, 5.0, 1)
    assert len(facts.pending) == len(TICKETS)
    facts.forget([1])
    assert len(facts.pending) == len(TICKETS)
    facts.forget([0])
    assert not facts.pending and facts.oldest_pending() is None


def test_touching_again_reaches_the_primaries_a_ticket_is_merged_into():
    folds = TicketFolds()
    for ticket in ("X", "M", "P", "other"):
        folds.add(0 if ticket != "P" else 1, ("acme", ticket), Step(T0, f"c{ticket}", "created", stage="new"))
    assert folds.merge(0, "acme", "M", "X") and folds.merge(1, "acme", "P", "M")  # X into M, M into P
    folds.take_touched()
    folds.touch_again([("acme", "X"), ("acme", "unknown"), ("globex", "X")])
    assert folds.take_touched() == {("acme", "X"): 0, ("acme", "M"): 0, ("acme", "P"): 1}
