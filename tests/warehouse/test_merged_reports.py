"""Issue 8: merged tickets in the reports, against a reference, in real chDB.

A merged ticket leaves the ticket-grained reports (it lives on in its
primary), its messages count on the primary wherever messages are counted
per ticket, and nothing is counted twice.
"""

from __future__ import annotations

from collections import Counter, defaultdict

from hypothesis import given
from hypothesis import strategies as st

from schemas.events import TicketMerged
from sinks.rows import ColumnBatch, event_row, table_columns
from streams.core.decode import SourceRef
from tests.warehouse.test_catalogue_reports import EXAMPLES, START, _run, _store, _week, histories


def _store_merges(warehouse, merges: dict[str, str]) -> None:
    batch = ColumnBatch(table_columns("ticket_events"))
    for n, (merged, primary) in enumerate(sorted(merges.items())):
        event = TicketMerged(event_id=f"merge{n}", type="ticket.merged", account_id="acme", occurred_at=START,
                             ticket_id=primary, merged_ticket_id=merged, schema_version=1)
        _, row = event_row(event, SourceRef("tickets", 0, 10_000 + n), "src")
        batch.append(row)
    warehouse.command("TRUNCATE TABLE ticket_events")
    if merges:
        warehouse.insert_columns("ticket_events", batch.columns, batch.data)


@EXAMPLES
@given(histories(), st.data())
def test_a_merged_ticket_counts_once_on_its_primary(clean_warehouse, tickets, data):
    stored = _store(clean_warehouse, tickets)
    ids = [state.ticket_id for state, _ in stored]
    merges = {ids[i]: ids[i - 1] for i in range(1, len(ids), 2) if data.draw(st.booleans(), label=f"merge {i}")}
    _store_merges(clean_warehouse, merges)
    primary = {t: merges.get(t, t) for t in ids}
    owner = {state.ticket_id: state.get("owner_id") for state, _ in stored}

    # ticket-grained: the merged ticket is not there
    volume = Counter(_week(state.created_at) for state, _ in stored if state.ticket_id not in merges)
    assert {r["period"]: r["tickets"] for r in _run(clean_warehouse, "support-volume")} == dict(volume)
    # messages per ticket: on the primary
    sent: Counter = Counter()
    received: Counter = Counter()
    replies: Counter = Counter()
    for (state, _), (_, _, messages, _) in zip(stored, tickets, strict=True):
        for _, direction, sender in messages:
            if direction == "inbound":
                received[primary[state.ticket_id]] += 1
            elif direction == "outbound" and sender == "rep":
                sent[primary[state.ticket_id]] += 1
                replies[primary[state.ticket_id]] += 1
    got = {(r["list"], r["ticket_id"]): r["messages"] for r in _run(clean_warehouse, "ticket-reply-counts")}
    assert all(ticket not in merges for _, ticket in got)
    for (name, ticket), n in got.items():
        assert n == (sent if name == "most_sent" else received)[ticket]
    # owner reply count: the primary's owner gets the merged ticket's replies
    per_owner: dict = defaultdict(lambda: [0, 0])
    for state, _ in stored:
        if state.ticket_id not in merges:
            per_owner[owner[state.ticket_id]][0] += 1
            per_owner[owner[state.ticket_id]][1] += replies[state.ticket_id]
    got = {r["owner_id"]: [r["tickets"], r["replies"]] for r in _run(clean_warehouse, "owner-reply-count")}
    assert got == dict(per_owner)
    # per hour: every message once, merged or not
    hours = _run(clean_warehouse, "time-of-day")
    assert sum(h["received"] for h in hours) == sum(received.values())
    assert sum(h["sent"] for h in hours) == sum(sent.values())
