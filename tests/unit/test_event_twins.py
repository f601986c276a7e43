"""The msgspec twin of an event model takes nothing the model refuses and reads every field as the model does.

The reference is pydantic itself (`ANY_EVENT.validate_json`): on any JSON the
twin takes, the model must take it too, with equal fields. What the twin
refuses goes to pydantic in `decode`, so that side needs no proof, only the
check that the twin does take ordinary records (else it would be no faster).
"""

import json
from datetime import UTC, datetime, timedelta
from typing import Literal, get_args, get_origin

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import AwareDatetime, ValidationError

from deskpulse.bench import generate
from schemas.events import ANY_EVENT, EVENT_MODELS
from schemas.topics import TOPIC_OF_TYPE
from streams.core.decode import DeadLetter, SourceRef, decode
from streams.core.event_twins import TWINS, decode_twin, encode_event, parse_time

pytestmark = pytest.mark.unit

GOOD = {
    "message.created": {"event_id": "e1", "type": "message.created", "account_id": "acme",
                        "occurred_at": "2026-11-02T11:30:00.123Z", "schema_version": 1, "message_id": "m1",
                        "ticket_id": "t1", "direction": "inbound", "sender_type": "customer", "sender_id": "c1",
                        "channel": "chat"},
    "ticket.created": {"event_id": "e2", "type": "ticket.created", "account_id": "acme",
                       "occurred_at": "2026-11-02T11:30:00+01:00", "ticket_id": "t1", "channel": "email",
                       "subject": "Printer on fire", "owner_id": None},
    "ticket.updated": {"event_id": "e3", "type": "ticket.updated", "account_id": "acme",
                       "occurred_at": "2026-11-02T11:30:00.5-05:00", "ticket_id": "t1", "status": "open",
                       "owner_id": None},
}
MODELS = {kind: EVENT_MODELS[kind] for kind in GOOD}
TOPIC = {"message.created": "messages", "ticket.created": "tickets", "ticket.updated": "tickets"}
MISSING = object()

texts = st.one_of(
    st.sampled_from(["a", "", " ", " a", "a ", "\ta", "a\n", "\u00a0a", "a\u3000", "\u2003", "x" * 200, "x" * 201,
                     "é" * 200, "é" * 201, "😀" * 200, "😀" * 201, "\ud800", "a\x00b", "ok"]),
    st.text(max_size=4), st.integers(-2, 2), st.none(), st.booleans(), st.floats(allow_nan=False),
    st.just([]), st.just({}))
digits = st.text(alphabet="0123456789", min_size=1, max_size=9)
times = st.one_of(
    st.builds(lambda date, sep, clock, frac, zone: f"{date}{sep}{clock}{frac}{zone}",
              st.sampled_from(["2026-11-02", "2000-01-01", "1999-12-31", "2026-02-29", "2024-02-29", "2026-13-01",
                               "20261102", "2026-1-02", "２026-11-02", "2026-11-0٢", (datetime.now(UTC) +
                               timedelta(days=3)).date().isoformat()]),
              st.sampled_from(["T", "t", " ", "_", ""]),
              st.sampled_from(["11:30:00", "23:59:59", "23:59:60", "24:00:00", "00:00:00", "11:30", "113000",
                               "11:30:0", "11:3٠:00"]),
              st.one_of(st.just(""), st.just("."), st.just(",5"), digits.map(lambda d: "." + d)),
              st.sampled_from(["Z", "z", "+00:00", "-00:00", "+01:00", "-09:30", "+0100", "+01", "+24:00", "+23:59",
                               "+01:00:30", "", " Z", "+05:45"])),
    st.sampled_from([1_700_000_000, 1.5, None, True, "now", "", "2026-11-02T11:30:00.1239999Z",
                     "2026-11-02T11:30:00.9999999+00:00", "2026-11-02T11:30:00.123456789+01:00"]))



def _literals(annotation) -> list:
    if get_origin(annotation) is Literal:
        return list(get_args(annotation))
    return [v for a in get_args(annotation) for v in _literals(a)]


def _field_values(name: str, annotation):
    if annotation is AwareDatetime:
        return times
    if name == "type":
        return st.sampled_from([*GOOD, "ticket.merged", "message.created ", "", None])
    literals = _literals(annotation)
    if literals:
        return st.sampled_from([*literals, *(f" {v}" for v in literals if isinstance(v, str)), "Other", "", None, 1,
                                1.0, "1", True])
    return texts


def changes(kind: str):
    model = MODELS[kind]
    return st.fixed_dictionaries({}, optional={
        **{name: _field_values(name, info.annotation) | st.just(MISSING) for name, info in model.model_fields.items()},
        "extra": st.sampled_from([1, "x", None]),
    })


def test_every_twinned_type_is_checked_here():
    assert {struct.type for struct in TWINS.values()} == set(GOOD)


def _raw(doc: dict, compact: bool, repeat: str | None, prefix: str) -> bytes:
    pairs = [(k, v) for k, v in doc.items() if v is not MISSING]
    if repeat is not None and pairs:
        pairs.append(pairs[hash(repeat) % len(pairs)][:1] + ("again",))  # a key twice: the last one counts
    sep, colon = (",", ":") if compact else (", ", ": ")
    body = sep.join(f"{json.dumps(k)}{colon}{json.dumps(v)}" for k, v in pairs)
    return (prefix + "{" + body + "}").encode("utf-8", "surrogatepass")


def _fields(event, model: type) -> dict:
    return {name: getattr(event, name) for name in model.model_fields}


def _same(twin, model) -> None:
    assert twin.type == model.type
    assert _fields(twin, type(model)) == _fields(model, type(model))
    for name, value in _fields(model, type(model)).items():
        assert type(getattr(twin, name)) is type(value), name
    assert twin.occurred_at.tzinfo is UTC and model.occurred_at.tzinfo is UTC
    if model.type == "ticket.updated":  # what was sent, and the changes read from it
        assert twin.__pydantic_fields_set__ == model.model_fields_set
        assert twin.changed_fields == model.changed_fields


@pytest.mark.parametrize("kind", list(GOOD))
@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), compact=st.booleans(), repeat=st.none() | st.sampled_from(["a", "b", "c"]),
       prefix=st.sampled_from(["", " ", "\ufeff", "\n"]))
def test_the_twin_takes_only_what_the_model_takes_and_reads_it_alike(kind, data, compact, repeat, prefix):
    raw = _raw({**GOOD[kind], **data.draw(changes(kind))}, compact, repeat, prefix)
    _agree(TOPIC[kind], raw)


@pytest.mark.parametrize(("kind", "change"), [
    ("message.created", {"occurred_at": "2026-11-02T11:30:00.1239999Z"}),
    ("message.created", {"sender_id": " c1"}),
    ("message.created", {"type": MISSING}),
    ("ticket.updated", {"status": MISSING, "owner_id": MISSING}),
    ("ticket.updated", {"status": None}),
    ("ticket.updated", {"subject": None, "category": "x" * 201}),
    ("ticket.created", {"pipeline": MISSING, "status": "  "}),
    ("ticket.created", {}), ("ticket.updated", {}), ("message.created", {}),
])
def test_the_twin_agrees_on_known_edges(kind, change):
    _agree(TOPIC[kind], _raw({**GOOD[kind], **change}, True, None, ""))


def _agree(topic: str, raw: bytes) -> None:
    twin = decode_twin(topic, raw)
    try:
        model = ANY_EVENT.validate_json(raw)
    except ValidationError:
        assert twin is None, raw
        return
    if twin is not None:
        _same(twin, model)
    answer = decode(SourceRef(topic, 0, 0), b"t1", raw)  # the twin's answer, else pydantic's
    assert isinstance(answer, DeadLetter) is (TOPIC_OF_TYPE[model.type].name != topic)


@given(at=st.datetimes(min_value=datetime(1999, 12, 30), max_value=datetime(2027, 1, 1)),
       offset_min=st.sampled_from([0, 60, -570, 345, 14 * 60, -12 * 60]), digits=st.integers(0, 9),
       zulu=st.booleans())
def test_a_time_in_the_usual_notation_is_read_as_pydantic_reads_it(at, offset_min, digits, zulu):
    sign = "-" if offset_min < 0 else "+"
    zone = "Z" if zulu and not offset_min else f"{sign}{abs(offset_min) // 60:02d}:{abs(offset_min) % 60:02d}"
    fraction = f".{at.microsecond:06d}{'987'}"[: digits + 1] if digits else ""
    text = at.strftime("%Y-%m-%dT%H:%M:%S") + fraction + zone
    raw = json.dumps({**GOOD["message.created"], "occurred_at": text}).encode()
    twin = decode_twin("messages", raw)
    try:
        model = ANY_EVENT.validate_json(raw)
    except ValidationError:
        assert twin is None
        return
    if digits > 6:  # more than microseconds: the twin leaves it to pydantic (parse_time)
        assert twin is None
        return
    assert twin is not None, text  # the usual notation, in range, is the twin's to read
    _same(twin, model)


def test_the_twin_reads_the_generated_events_and_only_on_their_topic():
    twinned = [(topic, value) for topic, _, value in generate(3000) if json.loads(value)["type"] in GOOD]
    assert len(twinned) > 1000
    for topic, value in twinned:
        twin = decode_twin(topic, value)
        model = ANY_EVENT.validate_json(value)
        assert isinstance(twin, TWINS[type(model)])
        _same(twin, model)
        assert decode(SourceRef(topic, 0, 0), None, value) == twin
    messages = [value for topic, value in twinned if topic == "messages"]
    assert decode_twin("tickets", messages[0]) is None  # a topic without twins never tries one
    wrong = decode(SourceRef("tickets", 0, 0), None, messages[0])  # and the topic check holds for a twin too
    assert isinstance(wrong, DeadLetter) and wrong.reason_code == "wrong_topic"


def test_a_twin_is_read_back_as_the_model_it_came_from():
    for kind, doc in GOOD.items():
        twin = decode_twin(TOPIC[kind], json.dumps(doc).encode())
        again = ANY_EVENT.validate_json(encode_event(twin))
        _same(twin, again)
        assert json.loads(encode_event(again)) == json.loads(encode_event(twin))


@pytest.mark.parametrize("text", ["2026-11-02T11:30:00.1239999Z", "2026-11-02T11:30Z", "2026-11-02 11:30:00Z",
                                  "2026-11-02T11:30:00+0100", "2026-11-02T11:30:00,5Z", "20261102T113000Z"])
def test_other_notations_are_left_to_pydantic(text):
    assert parse_time(text) is None


def test_an_event_is_written_back_with_the_fields_it_was_sent_with():
    # A refused update is dead-lettered as JSON: a null for each field not sent would read back as clearing it.
    raw = json.dumps(GOOD["ticket.updated"]).encode()
    for event in (decode_twin("tickets", raw), ANY_EVENT.validate_json(raw)):
        written = json.loads(encode_event(event))
        assert set(written) == set(GOOD["ticket.updated"])
        assert ANY_EVENT.validate_json(encode_event(event)).changed_fields == ("status", "owner_id")
