import json
from collections import Counter
from datetime import UTC, datetime, timedelta

from deskpulse.simulator.corrupt import KINDS, corrupt
from deskpulse.simulator.model import Simulation
from deskpulse.simulator.produce import route
from schemas.events import ANY_EVENT, EVENT_MODELS
from streams.core.decode import DeadLetter, SourceRef, decode

START = datetime(2026, 11, 2, tzinfo=UTC)


def week(seed=3):
    return list(Simulation(seed, START).events(START + timedelta(days=7)))


def test_same_seed_same_events_and_different_seed_differs():
    assert week(3) == week(3)
    assert [e["event_id"] for e in week(3)] != [e["event_id"] for e in week(4)]


def test_a_week_is_valid_realistic_and_covers_every_event_type():
    events = week()
    kinds = Counter(e["type"] for e in events)
    assert set(kinds) == set(EVENT_MODELS)
    assert all(ANY_EVENT.validate_python(e) for e in events)
    times = [e["occurred_at"] for e in events]
    assert times == sorted(times)
    messages = [e for e in events if e["type"] == "message.created"]
    assert {m["sender_type"] for m in messages} == {"customer", "rep"}
    assert {m["direction"] for m in messages} == {"inbound", "outbound", "internal"}
    assert {e["channel"] for e in events if e["type"] == "ticket.created"} >= {"chat", "email", "phone", "form"}
    assert {e["account_id"] for e in events} == {"acme", "globex"}
    # reopened tickets: a closed ticket that later gets a customer message
    closed_then_written = 0
    closed = set()
    for e in events:
        if e["type"] == "ticket.updated" and e.get("status") == "closed":
            closed.add(e["ticket_id"])
        elif e["type"] == "message.created" and e["direction"] == "inbound" and e["ticket_id"] in closed:
            closed_then_written += 1
            closed.discard(e["ticket_id"])
    assert closed_then_written > 0


def test_live_intensity_change_applies_from_now_on():
    sim = Simulation(1, START)
    before = len(list(sim.events(START + timedelta(hours=1))))
    sim.set_intensity(20)
    after = len(list(sim.events(START + timedelta(hours=2))))
    assert after > 5 * max(before, 1)


def test_every_corruption_is_dead_lettered_for_its_own_reason():
    for good in week()[:50]:
        topic, key = route(good)
        assert not isinstance(decode(SourceRef(topic, 0, 0), key, json.dumps(good).encode()), DeadLetter)
        for kind in KINDS:
            outcome = decode(SourceRef(topic, 0, 0), key, corrupt(good, kind))
            assert isinstance(outcome, DeadLetter), (kind, good["type"])
            assert outcome.reason_code != "wrong_topic"
