"""Current state of one ticket: pure, order-independent.

Each property is last-writer-wins by event time (ties broken by event_id),
so applying a ticket's events in any order gives the same state, and
applying an event twice changes nothing. That is what lets the worker replay
a batch after a crash and reload state from ClickHouse on a cache miss.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import field
from datetime import datetime

from schemas.events import TICKET_FIELDS, TicketCreated, TicketDeleted, TicketMerged, TicketUpdated
from streams.core.immutable import immutable

TicketEvent = TicketCreated | TicketUpdated | TicketMerged | TicketDeleted
# (event time, event_id): the order in which writes to one field win.
Stamp = tuple[datetime, str]

DEFAULTS: Mapping[str, str] = {"status": "new", "pipeline": "support", "priority": "medium"}
PROPERTIES = (*TICKET_FIELDS, "contact_id")


@immutable
class TicketState:
    account_id: str
    ticket_id: str
    created_at: datetime | None = None
    values: Mapping[str, str | None] = field(default_factory=dict)
    stamps: Mapping[str, Stamp] = field(default_factory=dict)
    deleted: bool = False
    updated_at: datetime | None = None
    version: int = 0

    def get(self, name: str) -> str:
        value = self.values.get(name)
        return value if value is not None else DEFAULTS.get(name, "")

    def closed_at(self, is_closed_stage: Callable[[str, str], bool]) -> datetime | None:
        """When the ticket entered its current closed stage; None while open.

        A reopened ticket that closes again reports the final close.
        """
        if not is_closed_stage(self.get("pipeline"), self.get("status")):
            return None
        stamp = self.stamps.get("status")
        return stamp[0] if stamp else self.created_at


def update_properties(state: TicketState | None, event: TicketEvent) -> TicketState:
    """Apply one event of *this* ticket (for a merge: the primary)."""
    if state is None:
        state = TicketState(account_id=event.account_id, ticket_id=event.ticket_id)
    stamp: Stamp = (event.occurred_at, event.event_id)
    values, stamps = dict(state.values), dict(state.stamps)
    created_at, deleted = state.created_at, state.deleted

    kind = event.type  # by type, not class: a ticket event may be a msgspec twin (event_twins.py)
    if kind == "ticket.created":
        created_at = event.occurred_at if created_at is None else min(created_at, event.occurred_at)
        changed = {name: getattr(event, name) for name in PROPERTIES}
    elif kind == "ticket.updated":
        changed = {name: getattr(event, name) for name in event.changed_fields}  # type: ignore[union-attr]
    elif kind == "ticket.deleted":
        deleted, changed = True, {}
    else:  # merged: the primary's own properties do not change
        changed = {}

    for name, value in changed.items():
        # A creation only sets what an earlier-applied later update has not.
        if name not in stamps or stamps[name] < stamp:
            values[name], stamps[name] = value, stamp

    updated_at = event.occurred_at if state.updated_at is None else max(state.updated_at, event.occurred_at)
    return TicketState(state.account_id, state.ticket_id, created_at, values, stamps, deleted, updated_at,
                       state.version + 1)
