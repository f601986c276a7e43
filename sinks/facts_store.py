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


_NO_PROPERTIES = ("",) * len(PROPERTY_COLUMNS)
# A nested column is one JSON array of the row (Warehouse.insert_rows): any sequence will do, so a row's nested
# columns are zip's tuples as they come, and a ticket with none shares one tuple of empty ones. As lists, twenty
# per facts row were a tenth of the facts time and 1.7 million objects over `make bench`.
_NO_STAGES = ((),) * len(STAGE_COLUMNS)
_NO_INTERVALS = ((),) * len(INTERVAL_COLUMNS)
_NO_CLOCKS = ((),) * len(CLOCK_COLUMNS)


def facts_row(account_id: str, ticket_id: str, state: TicketState | None, facts: TicketFacts,
              computed_at: datetime, version: int) -> tuple:
    ttfr, ttc = facts.time_to_first_response, facts.time_to_close
    stages = zip(*[(s.stage, s.entered_at, s.left_at, d.seconds if d else None, d.sla_seconds if d else None)
                   for s, d in facts.stages], strict=True) if facts.stages else _NO_STAGES
    intervals = zip(*[(i.metric, i.started_at, i.ended_at, i.waiting, i.answered_by, i.channel, i.first,
                       d.seconds, d.sla_seconds) for i, d in facts.intervals], strict=True) \
        if facts.intervals else _NO_INTERVALS
    clocks = zip(*[(c.metric, c.started_at, c.target_s, c.due_soon_at, c.due_at, c.stopped_at)
                   for c in facts.clocks], strict=True) if facts.clocks else _NO_CLOCKS
    return (account_id, ticket_id, facts.created_at, *(map(state.get, PROPERTY_COLUMNS) if state else _NO_PROPERTIES),
            bool(state and state.deleted), facts.first_response_at, facts.first_responder,
            ttfr.seconds if ttfr else None, ttfr.sla_seconds if ttfr else None, facts.closed_at,
            ttc.seconds if ttc else None, ttc.sla_seconds if ttc else None, facts.reopens, facts.waiting_since,
            *stages, *intervals, *clocks, computed_at, version)


# Built without validation: these rows were validated when they were first consumed.
_TICKET_MODELS = {"ticket.created": TicketCreated, "ticket.updated": TicketUpdated, "ticket.merged": TicketMerged,
                  "ticket.deleted": TicketDeleted}
_TICKET_SQL = ("SELECT account_id, event_id, type, occurred_at, ticket_id, changed, merged_ticket_id, contact_id, "
               "_partition, _offset, " + ", ".join(TICKET_FIELDS) + " FROM ticket_events")
_MESSAGE_SQL = ("SELECT account_id, event_id, occurred_at, ticket_id, message_id, direction, sender_type, sender_id, "
                "channel, _partition, _offset FROM message_events")


_MESSAGE_FIELDS = frozenset({"account_id", "event_id", "type", "occurred_at", "ticket_id", "message_id", "direction",
                             "sender_type", "sender_id", "channel", "schema_version"})
_FIELD_SETS: dict[frozenset[str], frozenset[str]] = {}


def _fields_set(names: Iterable[str]) -> frozenset[str]:
    """One shared, immutable fields-set per combination (the models are frozen): a restore makes hundreds of
    thousands of events, and a set of its own cost each event more than half a kilobyte."""
    key = frozenset(names)
    return _FIELD_SETS.setdefault(key, key) if len(_FIELD_SETS) < 4096 else key


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
    event = model.model_construct(_fields_set=_fields_set(fields), **fields)  # type: ignore[arg-type]
    return event, SourceRef("tickets", int(partition), int(offset))


def _message_event(row: tuple) -> tuple[Event, SourceRef]:
    account_id, event_id, at, ticket_id, message_id, direction, sender_type, sender_id, channel, partition, offset = row
    event = MessageCreated.model_construct(
        _fields_set=_MESSAGE_FIELDS,  # type: ignore[arg-type]
        account_id=account_id, event_id=event_id, type="message.created", occurred_at=as_utc(at),
        ticket_id=ticket_id, message_id=message_id, direction=direction, sender_type=sender_type,
        sender_id=sender_id, channel=channel, schema_version=1)
    return event, SourceRef("messages", int(partition), int(offset))


# Tickets a worker need not hold: closed (facts) before the cutoff and in no merge, either side (a merge
# links two folds in memory; see TicketPartitions.evict, which applies the same rule to folds).
_EVICTED_SQL = """(account_id, ticket_id) NOT IN (
    SELECT account_id, ticket_id FROM ticket_facts FINAL
    WHERE closed_at IS NOT NULL AND closed_at < {evict_before:DateTime64(3)}
      AND (account_id, ticket_id) NOT IN (
          SELECT account_id, ticket_id FROM ticket_events WHERE type = 'ticket.merged'
          UNION ALL
          SELECT account_id, merged_ticket_id FROM ticket_events WHERE type = 'ticket.merged'))"""


def load_history(warehouse: Warehouse, source: str, partitions: Iterable[int],
                 offsets: dict[tuple[str, int], int],
                 evict_before: datetime | None = None) -> list[tuple[Event, SourceRef]]:
    """Ticket and message events stored from these partitions, as the events they were.

    Only rows up to the stored watermark (`offsets[(topic, partition)]`) of
    this broker: exactly what the consumer will not be given again. They go
    through the same code as freshly consumed events (one restore path).
    With `evict_before`, not those of tickets closed before it (they are read
    back one by one if a late event comes: `load_tickets`).
    """
    partitions = sorted(set(partitions))
    if not partitions:
        return []
    events = []
    evicted = f" AND {_EVICTED_SQL}" if evict_before is not None else ""
    for topic, sql, make in (("tickets", _TICKET_SQL, _ticket_event), ("messages", _MESSAGE_SQL, _message_event)):
        limits = [offsets.get((topic, p), -1) for p in partitions]
        # Block by block: the rows of a long history never all exist as Python tuples next to their events.
        with warehouse.stream(f"{sql} WHERE _topic = {{topic:String}} AND {stored_rows()}{evicted}",
                              {"topic": topic, "source": source, "parts": partitions, "limits": limits,
                               "evict_before": evict_before}) as blocks:
            for block in blocks:
                events.extend(make(row) for row in block)
    return events


def load_tickets(warehouse: Warehouse, keys: Iterable[tuple[str, str]]) -> list[tuple[Event, SourceRef]]:
    """Every stored ticket event and message of those of these tickets that have stored facts (any
    partition, any broker), as events: a ticket evicted from memory, read back. New tickets (no facts yet,
    most keys of a flush) cost one primary-key lookup, nothing more."""
    keys = set(keys)
    if not keys:
        return []
    found = {tuple(row) for row in warehouse.query(
        "SELECT DISTINCT account_id, ticket_id FROM ticket_facts "
        "WHERE account_id IN {accounts:Array(String)} AND ticket_id IN {ids:Array(String)}",
        {"accounts": sorted({a for a, _ in keys}), "ids": sorted({t for _, t in keys})}).result_rows} & keys
    if not found:
        return []
    params = {"accounts": sorted({a for a, _ in found}), "ids": sorted({t for _, t in found})}
    seen, out = set(), []
    for sql, make in ((_TICKET_SQL, _ticket_event), (_MESSAGE_SQL, _message_event)):
        rows = warehouse.query(f"{sql} WHERE account_id IN {{accounts:Array(String)}} AND ticket_id IN "
                               "{ids:Array(String)}", params).result_rows
        for row in rows:
            event, source = make(row)
            if (event.account_id, event.ticket_id) in found and event.event_id not in seen:  # type: ignore[attr-defined]
                seen.add(event.event_id)
                out.append((event, source))
    return out


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
