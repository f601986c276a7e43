"""Hostile or absurd input never gets past the models: every id and text field is bounded, every time plausible.

Issue 10, findings 3, 4 and 7: a 5,000-character time zone, a huge owner id,
a call started in year 1. Each becomes a dead letter (or a refused config)
with a reason that names the field, never an exception in the worker.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.config import AccountConfig
from streams.core.decode import DeadLetter, SourceRef, decode
from streams.worker.batch import Batch, BatchBuilder
from tests.support.events import created, event, raw

SRC = SourceRef("tickets", 0, 1)
HUGE = "x" * 100_000

OPTIONAL_IDS = [
    ("tickets", lambda v: created("t1", owner_id=v)),
    ("tickets", lambda v: created("t1", team_id=v)),
    ("tickets", lambda v: created("t1", category=v)),
    ("tickets", lambda v: created("t1", contact_id=v)),
    ("tickets", lambda v: event("ticket.updated", ticket_id="t1", owner_id=v)),
    ("availability", lambda v: event("rep.status_changed", rep_id="anna", team_id=v, status="available")),
    ("feedback", lambda v: event("feedback.submitted", ticket_id="t1", survey="csat", score=4, scale=5,
                                 contact_id=v)),
]


@pytest.mark.parametrize(("topic", "build"), OPTIONAL_IDS)
def test_every_optional_id_and_category_has_a_length_limit(topic, build):
    outcome = decode(SourceRef(topic, 0, 1), None, raw(build(HUGE)))
    assert isinstance(outcome, DeadLetter) and outcome.reason_code == "schema"
    assert "at most" in outcome.reason and len(outcome.reason) < 1_000
    assert not isinstance(decode(SourceRef(topic, 0, 1), None, raw(build("ok-id"))), DeadLetter)


def test_a_call_that_started_in_year_one_is_refused():
    call = event("call.ended", call_id="c1", rep_id="anna", outcome="completed",
                 started_at="0001-01-01T00:00:00+00:00", duration_s=30)
    outcome = decode(SourceRef("calls", 0, 1), None, raw(call))
    assert isinstance(outcome, DeadLetter) and "started_at" in outcome.reason


@pytest.mark.parametrize("zone", ["Europe/" + "x" * 5000, "../../etc/passwd", "Europe/Stockholm\x00", "", " "])
def test_an_absurd_time_zone_is_a_clear_config_error(zone):
    with pytest.raises(ValueError, match="time zone"):
        AccountConfig.model_validate({"timezone": zone})


def test_a_dead_letter_reason_is_bounded_whatever_the_record():
    builder, batch = BatchBuilder(100, "src"), Batch()
    builder.add(batch, SRC, b"k", raw({**created("t1"), "type": "ticket." + HUGE}))
    builder.add(batch, SRC._replace(offset=2), b"k", b"{" + HUGE.encode())
    assert [len(d.reason) <= 1_000 for d in batch.dead_letters] == [True, True]


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2_000))
def test_random_bytes_are_decoded_or_dead_lettered_never_raised(value):
    outcome = decode(SRC, None, value)
    assert isinstance(outcome, DeadLetter) or outcome.event_id


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(["event_id", "type", "account_id", "occurred_at", "ticket_id", "owner_id",
                                        "status", "channel", "schema_version", "subject"]),
                       st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True),
                                 st.text(max_size=300), st.lists(st.integers(), max_size=3))))
def test_random_json_objects_are_decoded_or_dead_lettered_never_raised(fields):
    outcome = decode(SRC, None, raw(fields))
    assert isinstance(outcome, DeadLetter) or outcome.event_id


def test_an_invalid_account_config_is_dead_lettered_with_its_field_path():
    bad = event("config.updated", config={"timezone": "Mars/Olympus", "calendars": {"office": {"hours": {
        "mon": ["25:00-26:00"]}}}})
    outcome = decode(SourceRef("config", 0, 1), b"acme", raw(bad))
    assert isinstance(outcome, DeadLetter) and outcome.reason_code == "invalid_config"
    assert "timezone" in outcome.reason and "calendars.office.hours" in outcome.reason
    good = event("config.updated", config={"timezone": "Europe/Stockholm"})
    assert not isinstance(decode(SourceRef("config", 0, 1), b"acme", raw(good)), DeadLetter)
