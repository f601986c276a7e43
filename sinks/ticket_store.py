"""Ticket state <-> rows of the `tickets` table."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from sinks.clickhouse import Warehouse, as_utc
from streams.core.ticket_properties import PROPERTIES, TicketState

COLUMNS = ("account_id", "ticket_id", "created_at", "status", "pipeline", "owner_id", "team_id", "priority",
           "category", "subject", "channel", "contact_id", "is_closed", "closed_at", "deleted", "updated_at",
           "field_times", "version", "_partition", "_offset")


def state_row(state: TicketState, closed_at: datetime | None, partition: int, offset: int) -> tuple:
    # field_times keeps the full (time, event_id) stamp so reloaded state
    # resolves ties exactly as in-memory state does. The fields one event set share its stamp (a creation
    # sets ten): each stamp is formatted once per row.
    texts: dict[int, str] = {}
    stamps = {}
    for name, stamp in state.stamps.items():
        text = texts.get(id(stamp))
        if text is None:
            text = texts[id(stamp)] = f"{stamp[0].isoformat()}|{stamp[1]}"
        stamps[name] = text
    return (state.account_id, state.ticket_id, state.created_at, *(state.get(p) for p in PROPERTIES),
            closed_at is not None, closed_at, state.deleted, state.updated_at, stamps,
            state.version, partition, offset)


def load_states(warehouse: Warehouse, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], TicketState]:
    keys = set(keys)
    if not keys:
        return {}
    result = warehouse.query(
        "SELECT account_id, ticket_id, created_at, " + ", ".join(PROPERTIES)
        + ", deleted, updated_at, field_times, version FROM tickets FINAL "
        "WHERE ticket_id IN {ids:Array(String)}",
        {"ids": sorted({t for _, t in keys})},
    )
    found = {}
    for row in result.result_rows:
        account_id, ticket_id, created_at, *props = row
        values = dict(zip(PROPERTIES, props[: len(PROPERTIES)], strict=True))
        deleted, updated_at, field_times, version = props[len(PROPERTIES):]
        if (account_id, ticket_id) not in keys:
            continue
        stamps = {}
        for name, text in field_times.items():
            when, _, eid = text.partition("|")
            stamps[name] = (datetime.fromisoformat(when), eid)
        found[(account_id, ticket_id)] = TicketState(
            account_id=account_id, ticket_id=ticket_id, created_at=as_utc(created_at),
            values={k: v for k, v in values.items() if k in stamps}, stamps=stamps, deleted=bool(deleted),
            updated_at=as_utc(updated_at), version=int(version))
    return found


def closed_at_for(state: TicketState, is_closed: Callable[[str, str, str], bool]) -> datetime | None:
    return state.closed_at(lambda pipeline, status: is_closed(state.account_id, pipeline, status))
