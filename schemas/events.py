"""Event models: the single source of truth for every event shape (SPEC §2).

Every event carries `event_id`, `type`, `account_id`, `occurred_at` and
`schema_version`. `occurred_at` must carry a UTC offset and is normalised to
UTC; timestamps outside a plausible window are rejected so that one bad
clock cannot create a partition in year 1970 or 2999.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import combinations
from typing import Annotated, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    field_validator,
    model_validator,
)

SCHEMA_VERSION = 1

# Plausible event-time window. History before 2000 is not help-desk data;
# the future bound tolerates producer clock skew.
EARLIEST_EVENT_TIME = datetime(2000, 1, 1, tzinfo=UTC)
MAX_FUTURE_SKEW = timedelta(days=1)

_latest = [datetime.now(UTC) + MAX_FUTURE_SKEW]  # a bound the true one (now + skew) never falls below


def _too_late(value: datetime) -> bool:
    """Beyond now + MAX_FUTURE_SKEW. While the clock runs forward the remembered bound only lags the true one,
    so a time at or under it passes without reading the clock (validation runs per event); only a time above it
    reads the clock. (A clock stepped back lets that step's worth more through until it catches up: this bound
    keeps out years-off clocks, not minutes.)"""
    if value <= _latest[0]:
        return False
    _latest[0] = datetime.now(UTC) + MAX_FUTURE_SKEW
    return value > _latest[0]


Channel = Literal["chat", "email", "form", "phone", "messenger", "api", "other"]
Priority = Literal["low", "medium", "high", "urgent"]
Id = Annotated[str, Field(min_length=1, max_length=200)]
# Every free-text and id field is bounded: one record must not be able to make a
# row, an alert or a dead letter too large for the broker (issue 10).
OptionalId = Annotated[str, Field(max_length=200)] | None
Category = Annotated[str, Field(max_length=200)] | None


class _computed_once:  # noqa: N801 - used as a decorator
    """functools.cached_property without its per-access lock (Python 3.11), for per-event use."""

    def __init__(self, fn) -> None:
        self.fn, self.name = fn, fn.__name__

    def __get__(self, obj, cls=None):
        if obj is None:
            return self
        value = obj.__dict__[self.name] = self.fn(obj)
        return value


class Event(BaseModel):
    """Fields shared by every event."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True,
                              ignored_types=(_computed_once,))

    event_id: Id
    account_id: Id
    occurred_at: AwareDatetime
    schema_version: Literal[1] = SCHEMA_VERSION

    @field_validator("occurred_at")
    @classmethod
    def _plausible_time(cls, value: datetime) -> datetime:
        # Milliseconds, as stored: state rebuilt from ClickHouse then equals live state. This runs per event: a
        # whole millisecond in range costs the conversion and three tests (pydantic parses "+00:00" and "Z" into
        # its own TzInfo(0), not UTC, so the conversion runs for every parsed event: docs/performance.md).
        value = value.astimezone(UTC)
        if value.microsecond % 1000:
            value = value.replace(microsecond=value.microsecond // 1000 * 1000)
        if EARLIEST_EVENT_TIME <= value <= _latest[0]:
            return value
        if value < EARLIEST_EVENT_TIME:
            raise ValueError(f"occurred_at {value.isoformat()} is before {EARLIEST_EVENT_TIME.date()}")
        if _too_late(value):
            raise ValueError(f"occurred_at {value.isoformat()} is more than a day in the future")
        return value


# --- tickets (key: ticket_id) ------------------------------------------------

TICKET_FIELDS = ("status", "pipeline", "owner_id", "team_id", "priority", "category", "subject", "channel")
_TICKET_FIELD_SET = frozenset(TICKET_FIELDS)
_NOT_CLEARABLE = frozenset({"status", "pipeline", "priority", "channel"})


class TicketCreated(Event):
    type: Literal["ticket.created"]
    ticket_id: Id
    pipeline: Id = "support"
    status: Id = "new"
    channel: Channel
    priority: Priority = "medium"
    owner_id: OptionalId = None
    team_id: OptionalId = None
    category: Category = None
    subject: str | None = Field(default=None, max_length=2000)
    contact_id: OptionalId = None


class TicketUpdated(Event):
    """A change of any ticket property; only the fields present changed.

    A field sent as null clears it (e.g. unassigning the owner), which is why
    presence, not value, says what changed.
    """

    type: Literal["ticket.updated"]
    ticket_id: Id
    status: Id | None = None
    pipeline: Id | None = None
    owner_id: OptionalId = None
    team_id: OptionalId = None
    priority: Priority | None = None
    category: Category = None
    subject: str | None = Field(default=None, max_length=2000)
    channel: Channel | None = None

    @model_validator(mode="after")
    def _something_changed(self) -> TicketUpdated:
        # Stated here once, per event (this validator was a third of ticket.updated's validation).
        changed = _changed_fields(self.__pydantic_fields_set__)
        if not changed:
            raise ValueError(f"ticket.updated must change at least one of: {', '.join(TICKET_FIELDS)}")
        for name in changed:
            if name in _NOT_CLEARABLE and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be cleared")
        self.__dict__["changed_fields"] = changed
        return self

    @_computed_once
    def changed_fields(self) -> tuple[str, ...]:
        # Set by the validator; stated here for an event built without validation (model_construct). The
        # value is written to __dict__ directly (allowed on frozen models); pydantic private attributes would
        # cost more than they save.
        return _changed_fields(self.model_fields_set)


# Every set of ticket fields -> the same fields in TICKET_FIELDS order (256 of them): one lookup per update, where
# ordering two fields cost half a microsecond.
_IN_ORDER = {frozenset(c): c for n in range(len(TICKET_FIELDS) + 1) for c in combinations(TICKET_FIELDS, n)}


def _changed_fields(fields_set: set[str]) -> tuple[str, ...]:
    """The ticket fields present, in TICKET_FIELDS order."""
    return _IN_ORDER[_TICKET_FIELD_SET.intersection(fields_set)]


class TicketMerged(Event):
    """`merged_ticket_id` is folded into `ticket_id` (the primary)."""

    type: Literal["ticket.merged"]
    ticket_id: Id
    merged_ticket_id: Id

    @model_validator(mode="after")
    def _distinct(self) -> TicketMerged:
        if self.ticket_id == self.merged_ticket_id:
            raise ValueError("a ticket cannot be merged into itself")
        return self


class TicketDeleted(Event):
    type: Literal["ticket.deleted"]
    ticket_id: Id


# --- messages (key: ticket_id) -----------------------------------------------


class MessageCreated(Event):
    type: Literal["message.created"]
    message_id: Id
    ticket_id: Id
    direction: Literal["inbound", "outbound", "internal"]
    sender_type: Literal["customer", "rep", "bot"]
    sender_id: Id
    channel: Channel

    @model_validator(mode="after")
    def _consistent_sender(self) -> MessageCreated:
        if (self.direction == "inbound") is (self.sender_type == "customer"):  # one test per event
            return self
        if self.direction == "inbound":
            raise ValueError("an inbound message must be sent by a customer")
        raise ValueError(f"a customer cannot send an {self.direction} message")


# --- feedback (key: ticket_id) -----------------------------------------------


class FeedbackSubmitted(Event):
    type: Literal["feedback.submitted"]
    ticket_id: Id
    survey: Literal["csat", "ces"]
    score: int
    scale: Annotated[int, Field(ge=2, le=10)]
    contact_id: OptionalId = None

    @model_validator(mode="after")
    def _score_on_scale(self) -> FeedbackSubmitted:
        if not 1 <= self.score <= self.scale:
            raise ValueError(f"score {self.score} is outside the scale 1..{self.scale}")
        return self


# --- availability (key: rep_id) ----------------------------------------------


class RepStatusChanged(Event):
    type: Literal["rep.status_changed"]
    rep_id: Id
    team_id: OptionalId = None
    status: Literal["available", "away", "busy", "offline"]


# --- calls (key: call_id) ----------------------------------------------------


class CallEnded(Event):
    type: Literal["call.ended"]
    call_id: Id
    rep_id: Id
    team_id: OptionalId = None
    ticket_id: OptionalId = None
    outcome: Literal["completed", "missed", "voicemail"]
    started_at: AwareDatetime
    duration_s: Annotated[float, Field(ge=0, le=7 * 24 * 3600)]

    @model_validator(mode="after")
    def _started_before_end(self) -> CallEnded:
        object.__setattr__(self, "started_at", self.started_at.astimezone(UTC))
        if self.started_at > self.occurred_at:
            raise ValueError("started_at is after the call ended (occurred_at)")
        if self.started_at < EARLIEST_EVENT_TIME:
            raise ValueError(f"started_at is before {EARLIEST_EVENT_TIME.date()}")
        return self


# --- customer AI agent (key: conversation_id) --------------------------------


class AgentEvent(Event):
    conversation_id: Id


class AgentConversationStarted(AgentEvent):
    type: Literal["agent.conversation_started"]
    channel: Channel = "chat"
    contact_id: OptionalId = None


class AgentAnswered(AgentEvent):
    type: Literal["agent.answered"]
    question: str = Field(default="", max_length=4000)


class AgentUnanswered(AgentEvent):
    type: Literal["agent.unanswered"]
    question: str = Field(min_length=1, max_length=4000)


class AgentHandedOff(AgentEvent):
    type: Literal["agent.handed_off"]
    ticket_id: Id
    to_rep_id: OptionalId = None
    to_team_id: OptionalId = None


class AgentResolved(AgentEvent):
    type: Literal["agent.resolved"]


class AgentFeedback(AgentEvent):
    type: Literal["agent.feedback"]
    helpful: bool


class AgentConversationClosed(AgentEvent):
    type: Literal["agent.conversation_closed"]


GAPS_CONVERSATION = "gaps"  # the conversation id (and record key) every gap dismissal of an account carries


class AgentGapDismissed(AgentEvent):
    """A knowledge-gap topic, or one question, dismissed from the list (the API sends it; SPEC §7)."""

    type: Literal["agent.gap_dismissed"]
    topic_id: OptionalId = None
    question_id: OptionalId = None  # the event id of an agent.unanswered

    @model_validator(mode="after")
    def _one_target(self) -> AgentGapDismissed:
        if bool(self.topic_id) == bool(self.question_id):
            raise ValueError("dismiss either a topic_id or a question_id")
        return self


# --- config (key: account_id, compacted) -------------------------------------


class ConfigUpdated(Event):
    """The account's whole configuration document (latest one wins).

    The document's own shape is validated by `schemas.config.AccountConfig`
    when it is applied; here it only has to be an object.
    """

    type: Literal["config.updated"]
    config: dict


AnyEvent = Annotated[
    TicketCreated
    | TicketUpdated
    | TicketMerged
    | TicketDeleted
    | MessageCreated
    | FeedbackSubmitted
    | RepStatusChanged
    | CallEnded
    | AgentConversationStarted
    | AgentAnswered
    | AgentUnanswered
    | AgentHandedOff
    | AgentResolved
    | AgentFeedback
    | AgentConversationClosed
    | AgentGapDismissed
    | ConfigUpdated,
    Field(discriminator="type"),
]

ANY_EVENT: TypeAdapter[AnyEvent] = TypeAdapter(AnyEvent)

EVENT_MODELS: dict[str, type[Event]] = {
    m.model_fields["type"].annotation.__args__[0]: m  # type: ignore[union-attr]
    for m in AnyEvent.__origin__.__args__  # type: ignore[attr-defined]
}
