"""Small builders of valid event dicts for tests."""

from __future__ import annotations

import itertools
import json

_ids = itertools.count(1)


def event(kind: str, *, account: str = "acme", at: str = "2026-11-02T10:00:00+00:00", **fields) -> dict:
    return {"event_id": f"e{next(_ids)}", "type": kind, "account_id": account, "occurred_at": at,
            "schema_version": 1, **fields}


def created(ticket: str, at: str = "2026-11-02T10:00:00+00:00", **fields) -> dict:
    return event("ticket.created", at=at, ticket_id=ticket, channel=fields.pop("channel", "email"), **fields)


def message(ticket: str, direction: str = "inbound", at: str = "2026-11-02T10:05:00+00:00") -> dict:
    sender = {"inbound": "customer", "outbound": "rep", "internal": "rep"}[direction]
    return event("message.created", at=at, message_id=f"m{next(_ids)}", ticket_id=ticket, direction=direction,
                 sender_type=sender, sender_id="anna" if sender == "rep" else "c1", channel="email")


def raw(value: dict) -> bytes:
    return json.dumps(value).encode()
