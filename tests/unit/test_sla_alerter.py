"""The alert scheduler's bookkeeping (no broker: nothing is sent here)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from streams.core.sla_clocks import Clock
from streams.worker.sla_alerter import SlaAlerter


def test_a_ticket_rewatched_on_every_flush_is_scheduled_once_per_threshold():
    alerter = SlaAlerter("localhost:9092", "sla-alerts", 3600)
    start = datetime.now(UTC)
    clock = Clock("first_response", start, None, 3600.0, start + timedelta(hours=1), start + timedelta(minutes=45))
    for _ in range(5):
        alerter.watch(("acme", "T1"), 0, [clock], "anna", "support", "high")
    assert sorted(at for at, _, _ in alerter._heap) == [clock.due_soon_at, clock.due_at]
    retargeted = Clock("first_response", start, None, 900.0, start + timedelta(minutes=15), None)
    alerter.watch(("acme", "T1"), 0, [retargeted], "anna", "support", "urgent")
    assert len(alerter._heap) == 3 and alerter.watched[("acme", "T1")].priority == "urgent"
