"""Ticket facts -> rows of `ticket_facts`; ticket history <- the raw tables."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from schemas.events import (
    TICKET_FIELDS,
    Event,
    MessageCreated,
    TicketCreated,
    TicketDeleted,
    TicketMerged,
    TicketUpdated,
)
from sinks.clickhouse import Warehouse, as_utc, stored_rows
from streams.core.decode import SourceRef
from streams.core.facts import TicketFacts
from streams.core.ticket_properties import TicketState

PROPERTY_COLUMNS = ("status", "pipeline", "owner_id", "team_id", "priority", "channel", "category")
STAGE_COLUMNS = ("stages.stage", "stages.entered_at", "stages.left_at", "stages.seconds", "stages.sla_seconds")
INTERVAL_COLUMNS = ("intervals.metric", "intervals.started_at", "intervals.ended_at", "intervals.waiting",
                    "intervals.answered_by", "intervals.channel", "intervals.first", "intervals.seconds",
                    "intervals.sla_seconds")
CLOCK_COLUMNS = ("clocks.metric", "clocks.started_at", "clocks.target_s", "clocks.due_soon_at", "clocks.due_at",
                 "clocks.stopped_at")
COLUMNS = ("account_id", "ticket_id", "created_at", *PROPERTY_COLUMNS, "deleted", "first_response_at",
           "first_responder", "time_to_first_response_s", "time_to_first_response_sla_s", "closed_at",
           "time_to_close_s", "time_to_close_sla_s", "reopen_count", "waiting_since",
           *STAGE_COLUMNS, *INTERVAL_COLUMNS, *CLOCK_COLUMNS, "computed_at", "version")
NULLABLE = frozenset({"created_at", "first_response_at", "time_to_first_response_s", "time_to_first_response_sla_s",
                      "closed_at", "time_to_close_s", "time_to_close_sla_s", "waiting_since"})


def _columns(rows: list[tuple], width: int) -> list[list]:
    return [list(c) for c in zip(*rows, strict=True)] if rows else [[] for _ in range(width)]


def facts_row(account_id: str, ticket_id: str, state: TicketState | None, facts: TicketFacts,
              computed_at: datetime, version: int) -> tuple:
    props = tuple(state.get(p) if state else "" for p in PROPERTY_COLUMNS)
    ttfr, ttc = facts.time_to_first_response, facts.time_to_close
    stages = _columns([(s.stage, s.entered_at, s.left_at, d.seconds if d else None, d.sla_seconds if d else None)
                       for s, d in facts.stages], len(STAGE_COLUMNS))
    intervals = _columns([(i.metric, i.started_at, i.ended_at, i.waiting, i.answered_by, i.channel, i.first,
                           d.seconds, d.sla_seconds) for i, d in facts.intervals], len(INTERVAL_COLUMNS))
    clocks = _columns([(c.metric, c.started_at, c.target_s, c.due_soon_at, c.due_at, c.stopped_at)
                       for c in facts.clocks], len(CLOCK_COLUMNS))
    return (account_id, ticket_id, facts.created_at, *props, bool(state and state.deleted),
            facts.first_response_at, facts.first_responder, ttfr.seconds if ttfr else None,
            ttfr.sla_seconds if ttfr else None, facts.closed_at, ttc.seconds if ttc else None,
            ttc.sla_seconds if ttc else None, facts.reopens, facts.waiting_since, *stages, *intervals, *clocks,
            computed_at, version)


# Built without validation: these rows were validated when they were first consumed.
_TICKET_MODELS = {"ticket.created": TicketCreated, "ticket.updated": TicketUpdated, "ticket.merged": TicketMerged,
                  "ticket.deleted": TicketDeleted}
_TICKET_SQL = ("SELECT account_id, event_id, type, occurred_at, ticket_id, changed, merged_ticket_id, contact_id, "
               "_partition, _offset, " + ", ".join(TICKET_FIELDS) + " FROM ticket_events")
_MESSAGE_SQL = ("SELECT account_id, event_id, occurred_at, ticket_id, message_id, direction, sender_type, sender_id, "
                "channel, _partition, _offset FROM message_events")


def _ticket_event(row: tuple) -> tuple[Event, SourceRef]:
    account_id, event_id, kind, at, ticket_id, changed, merged, contact_id, partition, offset, *values = row
    fields = {"account_id": account_id, "event_id": event_id, "type": kind, "occurred_at": as_utc(at),
              "ticket_id": ticket_id, "schema_version": 1}
    model = _TICKET_MODELS[kind]
    if kind in ("ticket.created", "ticket.updated"):
        # `changed` says which properties the event carried (an update's null clears a field)
        fields.update({name: (value or None) for name, value in zip(TICKET_FIELDS, values, strict=True)
                       if name in changed})
    if kind == "ticket.created":
        fields["contact_id"] = contact_id or None
    if kind == "ticket.merged":
        fields["merged_ticket_id"] = merged
    event = model.model_construct(_fields_set=set(fields), **fields)
    return event, SourceRef("tickets", int(partition), int(offset))


def _message_event(row: tuple) -> tuple[Event, SourceRef]:
    account_id, event_id, at, ticket_id, message_id, direction, sender_type, sender_id, channel, partition, offset = row
    event = MessageCreated.model_construct(
        account_id=account_id, event_id=event_id, type="message.created", occurred_at=as_utc(at),
        ticket_id=ticket_id, message_id=message_id, direction=direction, sender_type=sender_type,
        sender_id=sender_id, channel=channel, schema_version=1)
    return event, SourceRef("messages", int(partition), int(offset))


def load_history(warehouse: Warehouse, source: str, partitions: Iterable[int],
                 offsets: dict[tuple[str, int], int]) -> list[tuple[Event, SourceRef]]:
    """Ticket and message events stored from these partitions, as the events they were.

    Only rows up to the stored watermark (`offsets[(topic, partition)]`) of
    this broker: exactly what the consumer will not be given again. They go
    through the same code as freshly consumed events (one restore path).
    """
    partitions = sorted(set(partitions))
    if not partitions:
        return []
    events = []
    for topic, sql, make in (("tickets", _TICKET_SQL, _ticket_event), ("messages", _MESSAGE_SQL, _message_event)):
        limits = [offsets.get((topic, p), -1) for p in partitions]
        result = warehouse.query(f"{sql} WHERE _topic = {{topic:String}} AND {stored_rows()}",
                                 {"topic": topic, "source": source, "parts": partitions, "limits": limits})
        events.extend(make(row) for row in result.result_rows)
    return events


def load_messages(warehouse: Warehouse, keys: Iterable[tuple[str, str]]) -> list[tuple[Event, SourceRef]]:
    """Every stored message of these tickets (any partition, any broker), as events; one query."""
    keys = set(keys)
    if not keys:
        return []
    result = warehouse.query(
        f"{_MESSAGE_SQL} WHERE ticket_id IN {{ids:Array(String)}} AND account_id IN {{accounts:Array(String)}}",
        {"ids": sorted({t for _, t in keys}), "accounts": sorted({a for a, _ in keys})})
    seen, out = set(), []
    for row in result.result_rows:
        event, source = _message_event(row)
        if (event.account_id, event.ticket_id) in keys and event.event_id not in seen:
            seen.add(event.event_id)
            out.append((event, source))
    return out
