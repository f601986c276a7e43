import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

import schemas.events as events
from schemas.events import ANY_EVENT, EVENT_MODELS, TICKET_FIELDS, TicketUpdated
from schemas.export import export_json_schemas
from schemas.topics import TOPIC_OF_TYPE, TOPICS
from streams.core.decode import DeadLetter, SourceRef, decode
from tests.support.events import created, event, message, raw

SRC = SourceRef("tickets", 0, 7)


def test_every_event_type_has_a_model_and_a_topic():
    assert set(EVENT_MODELS) == set(TOPIC_OF_TYPE)
    assert len(EVENT_MODELS) == sum(len(t.event_types) for t in TOPICS)


def test_occurred_at_is_normalised_to_utc():
    e = ANY_EVENT.validate_python(created("t1", at="2026-11-02T11:30:00+01:00"))
    assert e.occurred_at.isoformat() == "2026-11-02T10:30:00+00:00"


@given(at=st.datetimes(min_value=datetime(2000, 1, 2), max_value=datetime(2026, 1, 1)),
       offset_min=st.integers(-14 * 60, 14 * 60), json_text=st.booleans())
def test_occurred_at_is_utc_to_the_millisecond(at, offset_min, json_text):
    # Reference: the rounding as it was written before it was skipped for whole milliseconds.
    sent = at.replace(tzinfo=timezone(timedelta(minutes=offset_min)))
    expected = sent.astimezone(UTC).replace(microsecond=sent.microsecond // 1000 * 1000)
    doc = created("t1", at=sent.isoformat())
    e = ANY_EVENT.validate_json(json.dumps(doc)) if json_text else ANY_EVENT.validate_python(doc)
    assert e.occurred_at == expected
    assert e.occurred_at.tzinfo is UTC  # compared with UTC times everywhere: another tzinfo costs each comparison
    assert e.occurred_at.microsecond % 1000 == 0


def test_ticket_updated_knows_what_changed_including_cleared_fields():
    e = ANY_EVENT.validate_python(event("ticket.updated", ticket_id="t1", owner_id=None, priority="high"))
    assert isinstance(e, TicketUpdated)
    assert e.changed_fields == ("owner_id", "priority")


_VALUES = {"status": "open", "pipeline": "support", "owner_id": "anna", "team_id": "t1", "priority": "high",
           "category": "billing", "subject": "refund", "channel": "email"}
_CLEARABLE = {"owner_id", "team_id", "category", "subject"}


@given(sent=st.dictionaries(st.sampled_from(TICKET_FIELDS), st.booleans()))
def test_ticket_updated_states_what_changed_in_field_order(sent):
    # sent: field -> sent as null; the reference reads the fields as the docstring says: presence, not value
    doc = event("ticket.updated", ticket_id="t1", **{f: None if null else _VALUES[f] for f, null in sent.items()})
    expected = tuple(f for f in TICKET_FIELDS if f in sent)
    cleared = [f for f, null in sent.items() if null and f not in _CLEARABLE]
    outcome = decode(SRC, b"t1", raw(doc))
    if not sent or cleared:
        assert isinstance(outcome, DeadLetter)
        assert ("must change at least one" if not sent else "cannot be cleared") in outcome.reason
        return
    assert not isinstance(outcome, DeadLetter) and outcome.type == "ticket.updated"  # a model or its twin
    assert outcome.changed_fields == expected
    # built without validation (as a restore does): the same answer
    assert TicketUpdated.model_construct(_fields_set=set(doc), **doc).changed_fields == expected


def test_the_future_bound_follows_the_clock(monkeypatch):
    now = datetime.now(UTC)
    monkeypatch.setattr(events, "_latest", [now - timedelta(days=30)])  # remembered long ago: only too low
    soon = {**created("t1"), "occurred_at": (now + timedelta(hours=23)).isoformat()}
    assert not isinstance(decode(SRC, b"t1", raw(soon)), DeadLetter)
    assert events._latest[0] >= now + timedelta(hours=23)
    later = {**created("t1"), "occurred_at": (now + timedelta(hours=25)).isoformat()}
    outcome = decode(SRC, b"t1", raw(later))
    assert isinstance(outcome, DeadLetter) and "more than a day in the future" in outcome.reason


@pytest.mark.parametrize(
    ("value", "code", "fragment"),
    [
        (b"{not json", "invalid_json", "invalid JSON"),
        (b"[1, 2]", "invalid_json", "not an object"),
        (b"", "empty", "empty"),
        (raw({**created("t1"), "type": "ticket.teleported"}), "unknown_type", "'ticket.teleported'"),
        (raw({k: v for k, v in created("t1").items() if k != "type"}), "schema", "missing field 'type'"),
        (raw({k: v for k, v in created("t1").items() if k != "account_id"}), "schema", "account_id: Field required"),
        (raw({**created("t1"), "occurred_at": "1970-01-01T00:00:00+00:00"}), "schema", "before 2000-01-01"),
        (raw({**created("t1"), "occurred_at": "2999-01-01T00:00:00+00:00"}), "schema", "in the future"),
        (raw({**created("t1"), "occurred_at": "2026-11-02T10:00:00"}), "schema", "timezone"),
        (raw({**created("t1"), "priority": "whenever"}), "schema", "priority"),
        (raw(event("ticket.updated", ticket_id="t1")), "schema", "must change at least one"),
        (raw(event("feedback.submitted", ticket_id="t", survey="csat", score="five", scale=5)), "schema", "score"),
        (raw(event("feedback.submitted", ticket_id="t", survey="csat", score=9, scale=5)), "schema", "outside"),
        (raw({**created("t1"), "surprise": 1}), "schema", "surprise"),
        (raw(message("t1")), "wrong_topic", "does not belong on topic 'tickets'"),
    ],
)
def test_bad_input_gets_a_clear_reason(value, code, fragment):
    outcome = decode(SRC, b"k", value)
    assert isinstance(outcome, DeadLetter), outcome
    assert outcome.reason_code == code
    assert fragment in outcome.reason
    assert "\n" not in outcome.reason
    assert outcome.value == value and outcome.source == SRC


def test_messages_must_be_consistent_about_who_sent_them():
    bad = {**message("t1", "inbound"), "sender_type": "rep"}
    outcome = decode(SourceRef("messages", 0, 0), None, raw(bad))
    assert isinstance(outcome, DeadLetter) and "inbound" in outcome.reason


def test_schema_export_writes_valid_json_schema_per_type(tmp_path):
    written = export_json_schemas(tmp_path)
    assert len(written) == len(EVENT_MODELS) + 1
    schema = json.loads((tmp_path / "message.created.schema.json").read_text())
    assert {"event_id", "account_id", "occurred_at", "ticket_id", "direction"} <= set(schema["required"])
