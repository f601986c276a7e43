"""Helpers for the live API tests: HTTP calls and today's events."""

from __future__ import annotations

import json
import time as clock
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime, time, timedelta

from tests.support.events import created, event


def get(url: str, token: str | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def stamp(delta: timedelta = timedelta(0)) -> str:
    return (datetime.now(UTC) - timedelta(minutes=5) + delta).isoformat(timespec="milliseconds")


SPAN = timedelta(seconds=150)  # todays_events' events lie within this of their first


def clear_of_midnight(before: timedelta = timedelta(minutes=2), after: timedelta = timedelta(minutes=6)) -> None:
    """For a test that makes events a few minutes old and reads "today" at the wall clock: wait out the minutes
    around a UTC midnight in which its events would lie on another day than its reads (CI may run at any hour;
    two such tests failed in a run at 00:12). Sleeps at most `before + after`, only near a midnight."""
    now = datetime.now(UTC)
    midnight = datetime.combine(now.date(), time(), UTC)
    if now - midnight < after:
        clock.sleep((midnight + after - now).total_seconds())
    elif midnight + timedelta(days=1) - now < before:
        clock.sleep((midnight + timedelta(days=1) + after - now).total_seconds())


def on_one_day(base: datetime, span: timedelta) -> datetime:
    """`base`, or, when base..base+span would cross a UTC midnight, the base that ends one second before it:
    events made from it lie on one day (and, since that midnight has passed, in the past)."""
    end = base + span
    if end.date() == base.date():
        return base
    return datetime.combine(end.date(), time(), UTC) - span - timedelta(seconds=1)


def events_end(events: list[dict]) -> str:
    """Just after the last of these events: an `at` that sees them all as "today", even when a UTC midnight
    has passed since they were made."""
    last = max(datetime.fromisoformat(e["occurred_at"]) for e in events)
    return (last + timedelta(seconds=1)).isoformat()


def todays_events(account: str, prefix: str) -> list[dict]:
    """Two tickets today: one answered and closed, one waiting; a CSAT answer and a call."""
    # One base instant: reading the clock per event made durations drift by the milliseconds between calls.
    # never across a UTC midnight: all on one day (see `events_end`)
    base = on_one_day(datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5), SPAN)

    def stamp(delta: timedelta = timedelta(0)) -> str:
        return (base + delta).isoformat(timespec="milliseconds")

    def msg(ticket, minutes, direction, sender_type, sender, message_id):
        return event("message.created", account=account, at=stamp(timedelta(seconds=minutes)), message_id=message_id,
                     ticket_id=ticket, direction=direction, sender_type=sender_type, sender_id=sender, channel="chat")
    a, b = f"{prefix}A", f"{prefix}B"
    events = [
        {**created(a, at=stamp(), channel="chat", priority="high", team_id="support", owner_id="anna",
                   subject="<script>alert('x')</script> printer"), "account_id": account},
        {**created(b, at=stamp(timedelta(seconds=10)), channel="email", team_id="billing"), "account_id": account},
        msg(a, 1, "inbound", "customer", "c1", f"{prefix}m1"),
        msg(a, 61, "outbound", "rep", "anna", f"{prefix}m2"),
        msg(b, 20, "inbound", "customer", "c2", f"{prefix}m3"),
        event("ticket.updated", account=account, at=stamp(timedelta(seconds=121)), ticket_id=a, status="closed"),
        event("feedback.submitted", account=account, at=stamp(timedelta(seconds=130)), ticket_id=a, survey="csat",
              score=5, scale=5),
        event("call.ended", account=account, at=stamp(timedelta(seconds=140)), call_id=f"{prefix}c", rep_id="anna",
              team_id="support", outcome="completed", started_at=stamp(timedelta(seconds=20)), duration_s=120.0),
        event("rep.status_changed", account=account, at=stamp(), rep_id="anna", team_id="support",
              status="available"),
    ]
    return events
