"""Ticket state is order-independent and idempotent: checked against a reference."""

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.events import ANY_EVENT, TICKET_FIELDS
from streams.core.ticket_properties import DEFAULTS, update_properties

T0 = datetime(2026, 11, 2, 9, tzinfo=UTC)


@st.composite
def ticket_histories(draw):
    n = draw(st.integers(1, 12))
    events = []
    for i in range(n):
        at = (T0 + timedelta(minutes=draw(st.integers(0, 600)))).isoformat()
        base = {"event_id": f"e{i:02d}", "account_id": "acme", "occurred_at": at, "ticket_id": "t1"}
        if i == 0 or draw(st.booleans()) and draw(st.integers(0, 5)) == 0:
            events.append({**base, "type": "ticket.created", "channel": draw(st.sampled_from(["chat", "email"])),
                           "status": draw(st.sampled_from(["new", "waiting_on_us"])),
                           "owner_id": draw(st.sampled_from([None, "anna"]))})
        else:
            changes = draw(st.dictionaries(
                st.sampled_from(["status", "owner_id", "priority", "team_id"]),
                st.sampled_from(["closed", "new", "anna", "bjorn", None, "high", "low"]), min_size=1))
            changes = {k: v for k, v in changes.items() if not (k == "status" and v not in ("closed", "new"))}
            changes = {k: v for k, v in changes.items() if not (k == "priority" and v not in ("high", "low"))}
            changes = {k: v for k, v in changes.items() if not (k in ("owner_id", "team_id") and v in ("closed", "new",
                                                                                                       "high", "low"))}
            if not changes:
                changes = {"owner_id": "bjorn"}
            events.append({**base, "type": "ticket.updated", **changes})
    return [ANY_EVENT.validate_python(e) for e in events]


def reference(events):
    """Each property: the value of the latest write by (time, event_id)."""
    values = {}
    for e in sorted(events, key=lambda e: (e.occurred_at, e.event_id)):
        if e.type == "ticket.created":
            values.update({f: getattr(e, f) for f in TICKET_FIELDS})
        else:
            values.update({f: getattr(e, f) for f in e.changed_fields})
    created = [e.occurred_at for e in events if e.type == "ticket.created"]
    return {f: values.get(f) if values.get(f) is not None else DEFAULTS.get(f, "") for f in TICKET_FIELDS}, (
        min(created) if created else None)


def fold(events):
    state = None
    for e in events:
        state = update_properties(state, e)
    return state


@settings(max_examples=300, deadline=None)
@given(ticket_histories(), st.randoms())
def test_any_order_gives_the_reference_state(events, rnd):
    shuffled = list(events)
    rnd.shuffle(shuffled)
    state = fold(shuffled)
    expected, created_at = reference(events)
    assert {f: state.get(f) for f in TICKET_FIELDS} == expected
    assert state.created_at == created_at
    assert state.updated_at == max(e.occurred_at for e in events)


@settings(max_examples=100, deadline=None)
@given(ticket_histories())
def test_applying_events_twice_changes_nothing(events):
    once = fold(events)
    twice = fold(events + events)
    assert (once.values, once.stamps, once.created_at) == (twice.values, twice.stamps, twice.created_at)


def test_closed_at_is_the_final_close_after_a_reopen():
    def upd(i, minutes, status):
        return ANY_EVENT.validate_python({"event_id": f"u{i}", "type": "ticket.updated", "account_id": "a",
                                          "occurred_at": (T0 + timedelta(minutes=minutes)).isoformat(),
                                          "ticket_id": "t", "status": status})

    created = ANY_EVENT.validate_python({"event_id": "c", "type": "ticket.created", "account_id": "a",
                                         "occurred_at": T0.isoformat(), "ticket_id": "t", "channel": "chat"})
    state = fold([created, upd(1, 10, "closed"), upd(2, 20, "waiting_on_us"), upd(3, 30, "closed")])
    is_closed = lambda pipeline, status: status == "closed"  # noqa: E731
    assert state.closed_at(is_closed) == T0 + timedelta(minutes=30)
    assert fold([created, upd(1, 10, "closed"), upd(2, 20, "waiting_on_us")]).closed_at(is_closed) is None
