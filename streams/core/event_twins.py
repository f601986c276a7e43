"""A second decoder for the busiest event types: msgspec twins of the pydantic models (pure).

pydantic validates a message or a ticket event in about 3.7 µs; its twin,
in 1.8-2.7 (msgspec parses and checks the fields in 0.5-0.7, the rest is the
checks after it: docs/performance.md, "A tenth look"). The twin is generated from the pydantic model, and its
checks after parsing are the model's own validators, so the model stays the
single source of truth. The twin may refuse what the model takes (a time in
another notation, a string to be stripped, a number for a time): it then
returns None and the caller asks pydantic, which also words every dead
letter. It must never take what the model refuses, nor read a field
otherwise: `tests/unit/test_event_twins.py` checks that on any JSON.

A twin is a slotted struct with the model's fields and `type`; the worker
reads events by attribute and by `type`, never by class (rows.py,
ticket_properties.py, the folds), so either kind serves.
"""

from __future__ import annotations

import types
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import annotated_types
import msgspec
from pydantic import AwareDatetime
from pydantic.fields import FieldInfo

from schemas.events import Event, MessageCreated, TicketCreated, TicketUpdated
from schemas.topics import TOPIC_OF_TYPE

# The types decoded twice: in `make bench`, 87 % of the events (messages 41 %, ticket updates 38 %, tickets
# created 9 %).
TWINNED: tuple[type[Event], ...] = (MessageCreated, TicketCreated, TicketUpdated)
# Models whose validators read which fields were sent (pydantic's fields set): their twins keep it.
SENT_FIELDS_READ: tuple[type[Event], ...] = (TicketUpdated,)

# "2026-11-02T11:30:00.123+01:00" at most: a longer string is not a time the twin reads.
MAX_TIME_TEXT = 32
_force_setattr = msgspec.structs.force_setattr
_fromisoformat = datetime.fromisoformat


def parse_time(text: str) -> datetime | None:
    """The one notation the twin reads, `YYYY-MM-DDTHH:MM:SS[.f{1,6}](Z|±HH:MM)`, in UTC; None for any other.

    Not msgspec's own parser: it rounds a seventh fractional digit where pydantic cuts it off, and a time
    floored to the millisecond would then differ (.1239999 -> .124 against .123).
    """
    n = len(text)
    if text[-1:] == "Z":
        cut = n - 1
    elif n > 6 and text[-3] == ":" and text[-6] in "+-":
        cut = n - 6
    else:
        return None
    if (cut != 19 and not (21 <= cut <= 26 and text[19] == ".")) or text[10:11] != "T" or not text.isascii():
        return None
    try:
        value = _fromisoformat(text)
    except ValueError:
        return None
    return value if value.tzinfo is UTC else value.astimezone(UTC)


def _constraints(metadata: list[Any]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for item in metadata:
        if isinstance(item, FieldInfo):
            if item.alias or item.validation_alias:
                raise TypeError("no msgspec twin for a field with an alias")
            found.update(_constraints(item.metadata))
        elif isinstance(item, annotated_types.MinLen):
            found["min_length"] = item.min_length
        elif isinstance(item, annotated_types.MaxLen):
            found["max_length"] = item.max_length
        elif isinstance(item, annotated_types.Ge):
            found["ge"] = item.ge
        elif isinstance(item, annotated_types.Le):
            found["le"] = item.le
        else:
            raise TypeError(f"no msgspec twin for the constraint {item!r}")
    return found


def _twin_type(annotation: Any, metadata: list[Any]) -> Any:
    """The msgspec type of a pydantic field; a constraint or type it does not know is an error at import."""
    origin = get_origin(annotation)
    if origin is Annotated:
        base, *extra = get_args(annotation)
        return _twin_type(base, [*metadata, *extra])
    if origin in (Union, types.UnionType):
        return Union[tuple(_twin_type(a, metadata) for a in get_args(annotation))]  # noqa: UP007
    if annotation is type(None):
        return annotation
    if origin is Literal:
        if metadata:
            raise TypeError(f"constraints on {annotation!r}")
        return annotation
    if annotation is AwareDatetime:
        # Read as text and parsed in __post_init__ (parse_time): bounded, as every field is.
        return Annotated[str, msgspec.Meta(max_length=MAX_TIME_TEXT)]
    if annotation in (str, int, float, bool):
        found = _constraints(metadata)
        return Annotated[annotation, msgspec.Meta(**found)] if found else annotation
    raise TypeError(f"no msgspec twin for {annotation!r}")


def twin(model: type[Event]) -> type[msgspec.Struct]:
    """A frozen struct with the model's fields, tagged by its `type`, running the model's validators."""
    kind = model.model_fields["type"].annotation.__args__[0]  # type: ignore[union-attr]
    sent_read = model in SENT_FIELDS_READ
    fields: list[tuple] = []
    defaults: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        if name == "type":
            continue
        if info.alias or info.validation_alias:
            raise TypeError(f"{model.__name__}.{name}: no msgspec twin for a field with an alias")
        spec = _twin_type(info.annotation, list(info.metadata))
        if info.is_required():
            fields.append((name, spec))
        elif sent_read:  # UNSET until __post_init__: what was not sent is then known
            fields.append((name, Union[spec, msgspec.UnsetType], msgspec.UNSET))  # noqa: UP007
            defaults[name] = info.default
        else:
            fields.append((name, spec, info.default))
    decorators = model.__pydantic_decorators__
    time_fields = tuple(n for n, i in model.model_fields.items() if i.annotation is AwareDatetime)
    field_checks = [(name, d.func) for d in decorators.field_validators.values() for name in d.info.fields]
    if any(d.info.mode != "after" for d in decorators.field_validators.values()) or \
            any(d.info.mode != "after" for d in decorators.model_validators.values()):
        raise TypeError(f"{model.__name__}: only validators that run after parsing have a twin")
    model_checks = [d.func for d in decorators.model_validators.values()]
    strip = model.model_config.get("str_strip_whitespace", False)
    text_fields = tuple(n for n, i in model.model_fields.items() if n != "type" and i.annotation is not AwareDatetime
                        and str in _leaf_types(i.annotation))

    # The checks after parsing, as one generated function (code from the model's field names, never input): a
    # loop over the fields with getattr cost as much again.
    lines = ["def __post_init__(self):"]
    for name in time_fields:
        lines += [f"    t = parse_time(self.{name})", "    if t is None:",
                  "        raise ValueError('a time in a notation the twin does not read')",
                  f"    force(self, {name!r}, t)"]

    def stripped(indent: str) -> list[str]:
        return [f"{indent}if v.__class__ is str and v.strip() is not v:",
                f"{indent}    raise ValueError('text to be stripped')"]

    checked: set[str] = set()
    if sent_read:  # the fields sent are the required ones and those not UNSET; the others take their defaults
        lines.append("    sent = set(required)")
        for name in defaults:
            lines += [f"    v = self.{name}", "    if v is UNSET:",
                      f"        force(self, {name!r}, defaults[{name!r}])", "    else:", f"        sent.add({name!r})"]
            if strip and name in text_fields:
                lines += stripped("        ")
                checked.add(name)
        lines.append("    self.__dict__['__pydantic_fields_set__'] = sent")  # what the model's validators read
    for name in text_fields if strip else ():
        if name not in checked:
            lines += [f"    v = self.{name}", *stripped("    ")]
    for i, (name, _) in enumerate(field_checks):
        lines.append(f"    force(self, {name!r}, field_check_{i}(self.{name}))")
    for i, _ in enumerate(model_checks):
        lines.append(f"    model_check_{i}(self)")
    namespace: dict[str, Any] = {"parse_time": parse_time, "force": _force_setattr, "UNSET": msgspec.UNSET,
                                 "defaults": defaults,
                                 "required": frozenset(model.model_fields).difference(defaults),
                                 **{f"field_check_{i}": c for i, (_, c) in enumerate(field_checks)},
                                 **{f"model_check_{i}": c for i, c in enumerate(model_checks)}}
    exec("\n".join(lines), namespace)  # noqa: S102

    # gc=False: every field holds a string, a number or a time, so a twin can be in no reference cycle; one with a
    # __dict__ (the fields sent, what a validator derives from them) is left to the collector.
    return msgspec.defstruct(f"{model.__name__}Twin", fields,
                             namespace={"type": kind, "__post_init__": namespace["__post_init__"]},
                             tag_field="type", tag=kind, forbid_unknown_fields=True, frozen=True,
                             gc=sent_read, dict=sent_read, kw_only=True)


def _leaf_types(annotation: Any) -> set[Any]:
    origin = get_origin(annotation)
    if origin is Annotated:
        return _leaf_types(get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        return set().union(*(_leaf_types(a) for a in get_args(annotation)))
    return {annotation}


TWINS: dict[type[Event], type[msgspec.Struct]] = {model: twin(model) for model in TWINNED}


class _Never(msgspec.Struct, tag_field="type", tag="\x00", forbid_unknown_fields=True):
    """In every decoder's union: msgspec requires the tag of a union's member, but not of a lone struct (a
    record without "type", which the model refuses, would be read as the lone twin; found by the test)."""


def _decoders() -> dict[str, msgspec.json.Decoder]:
    """Per topic, a decoder of its twinned types: a record of another topic never pays for a twin's miss (an
    exception, about 1 µs)."""
    topics: dict[str, list[type[msgspec.Struct]]] = {}
    for struct in TWINS.values():
        topics.setdefault(TOPIC_OF_TYPE[struct.type].name, []).append(struct)  # type: ignore[attr-defined]
    return {topic: msgspec.json.Decoder(Union[(*structs, _Never)]) for topic, structs in topics.items()}  # noqa: UP007


_DECODERS = _decoders()


def decode_twin(topic: str, value: bytes) -> Any | None:
    """The record as a twin, or None: a type without one, or anything the twin does not take (pydantic decides)."""
    decoder = _DECODERS.get(topic)
    if decoder is None:
        return None
    try:
        event = decoder.decode(value)
    except Exception:  # noqa: BLE001 - msgspec's errors, or a validator's other than ValueError: pydantic decides
        return None
    return None if event.__class__ is _Never else event


def encode_event(event: Any) -> bytes:
    """An event (a model or a twin) as JSON, with the fields it was sent with, e.g. to dead-letter it after
    decoding. Not every field: a ticket update's null clears its field, so one written for a field not sent
    would read back as another update (or as none: "status cannot be cleared")."""
    if not isinstance(event, msgspec.Struct):
        return event.model_dump_json(exclude_unset=True).encode()
    sent = event.__dict__.get("__pydantic_fields_set__") if hasattr(event, "__dict__") else None
    if sent is None:
        return msgspec.json.encode(event)
    return msgspec.json.encode({"type": event.type, **{name: getattr(event, name) for name in sorted(sent)}})
