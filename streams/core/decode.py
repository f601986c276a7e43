"""Raw Kafka record -> validated event, or a dead letter with a clear reason.

Pure: no broker, no database. The ingest service calls `decode` for every
record of a batch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from pydantic import ValidationError

from schemas.config import AccountConfig, explain_errors
from schemas.events import ANY_EVENT, Event
from schemas.topics import BY_NAME
from streams.core.event_twins import decode_twin


class SourceRef(NamedTuple):
    """Where a record came from; rows keep it so the sink can be idempotent.

    A NamedTuple: one is built per record, and a frozen dataclass costs
    several times more to construct.
    """

    topic: str  # logical topic name (without prefix)
    partition: int
    offset: int


MAX_REASON = 500  # characters: a reason quotes input, and the input may be megabytes


def _clip(text: str, limit: int = MAX_REASON) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True, slots=True)
class DeadLetter:
    source: SourceRef
    reason_code: str  # short, bounded set: usable as a metric label
    reason: str  # one human-readable line
    key: bytes | None
    value: bytes | None


def decode(source: SourceRef, key: bytes | None, value: bytes | None) -> Event | DeadLetter:
    if not value:
        return DeadLetter(source, "empty", "empty message value", key, value)
    # The twin first (half the cost, event_twins.py); what it does not take, pydantic decides and words.
    event = decode_twin(source.topic, value)
    if event is None:
        try:
            event = ANY_EVENT.validate_json(value)
        except ValidationError as exc:
            code, reason = explain(exc)
            return DeadLetter(source, code, _clip(reason), key, value)
    spec = BY_NAME.get(source.topic)
    if spec is not None and event.type not in spec.event_types:  # type: ignore[attr-defined]
        return DeadLetter(
            source,
            "wrong_topic",
            _clip(f"event type {event.type!r} does not belong on topic {source.topic!r}"),  # type: ignore[attr-defined]
            key,
            value,
        )
    if event.type == "config.updated":  # type: ignore[attr-defined]
        # An invalid account configuration is rejected here, with its field paths, so it is never stored and
        # never applied: the last valid one stays in force for the worker and for reports alike.
        try:
            AccountConfig.model_validate(event.config)  # type: ignore[attr-defined]
        except ValidationError as exc:
            return DeadLetter(source, "invalid_config", _clip("; ".join(explain_errors(exc)[:5])), key, value)
    return event


def explain(exc: ValidationError) -> tuple[str, str]:
    """Turn pydantic's errors into (reason_code, one line naming the bad fields)."""
    errors = exc.errors(include_url=False, include_input=True)
    first = errors[0]
    kind = first["type"]
    if kind == "json_invalid":
        return "invalid_json", _clip(f"invalid JSON: {first['ctx'].get('error', first['msg'])}")
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return "invalid_json", "the message is JSON but not an object"
    if kind == "union_tag_not_found":
        return "schema", "missing field 'type'"
    if kind == "union_tag_invalid":
        kind = first["input"].get("type") if isinstance(first["input"], dict) else None
        return "unknown_type", f"unknown event type {_clip(repr(kind), 100)}" if kind is not None else \
            "unknown event type"
    parts = []
    for err in errors[:5]:
        # loc starts with the union tag (the event type); the field path follows.
        loc = ".".join(str(p) for p in err["loc"][1:]) or "(event)"
        msg = _clip(err["msg"].removeprefix("Value error, "), 200)
        parts.append(f"{_clip(loc, 100)}: {msg}")
    more = f" (+{len(errors) - 5} more)" if len(errors) > 5 else ""
    return "schema", "; ".join(parts) + more
