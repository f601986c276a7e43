from hypothesis import given
from hypothesis import strategies as st

from sinks import ticket_store
from sinks.rows import DEAD_LETTER_TABLE, ColumnBatch, table_columns
from streams.core.decode import SourceRef
from streams.core.dedupe import SeenIds
from streams.worker.batch import Batch, BatchBuilder, batch_due, merge_batches
from tests.support.events import created, event, message, raw


def build(records, watermarks=None, capacity=1000):
    builder = BatchBuilder(capacity, "cluster-1", watermarks=dict(watermarks or {}))
    batch = Batch()
    for topic, offset, value in records:
        builder.add(batch, SourceRef(topic, 0, offset), b"k", value)
    return builder, batch


def test_rows_go_to_their_table_with_source_position():
    _, batch = build([("tickets", 0, raw(created("t1"))), ("messages", 0, raw(message("t1")))])
    assert {t: b.rows for t, b in batch.tables.items()} == {"ticket_events": 1, "message_events": 1}
    columns = dict(zip(table_columns("message_events"), batch.tables["message_events"].data, strict=True))
    assert columns["_source"] == ("cluster-1",) and columns["_offset"] == (0,) and columns["_topic"] == ("messages",)
    assert batch.next_offsets == {("tickets", 0): 1, ("messages", 0): 1}


def test_duplicate_event_ids_are_counted_once():
    e = raw(created("t1"))
    _, batch = build([("tickets", 0, e), ("tickets", 1, e), ("tickets", 2, e)])
    assert batch.tables["ticket_events"].rows == 1
    assert batch.duplicates["tickets"] == 2
    assert len(batch.ticket_events) == 1


def test_records_at_or_below_the_stored_watermark_are_not_written_again():
    records = [("tickets", i, raw(created(f"t{i}"))) for i in range(5)] + [("tickets", 5, b"{bad")]
    _, batch = build(records, {("ticket_events", "tickets", 0): 2, (DEAD_LETTER_TABLE, "tickets", 0): 5})
    assert batch.tables["ticket_events"].rows == 2  # offsets 3 and 4
    assert DEAD_LETTER_TABLE not in batch.tables
    assert batch.already_stored == 4
    # ticket state still sees every ticket event: applying again is harmless
    assert len(batch.ticket_events) == 5


def test_bad_records_become_dead_letter_rows():
    _, batch = build([("tickets", 3, b"{oops")])
    assert len(batch.dead_letters) == 1
    row = dict(zip(table_columns(DEAD_LETTER_TABLE), batch.tables[DEAD_LETTER_TABLE]._rows[0], strict=True))
    assert row["reason_code"] == "invalid_json" and row["raw"] == "{oops" and row["_offset"] == 3


@given(st.lists(st.integers(0, 50), max_size=300), st.integers(1, 20))
def test_seen_ids_remember_exactly_the_last_capacity_distinct_ids(ids, capacity):
    seen = SeenIds(capacity)
    order: list[str] = []
    for i in ids:
        key = str(i)
        fresh = seen.add(key)
        assert fresh == (key not in order[-capacity:])
        if fresh:
            order.append(key)
    assert len(seen) == min(capacity, len(order))


def test_an_internal_error_dead_letters_the_record_instead_of_crashing(monkeypatch):
    import streams.worker.batch as batch_module

    def broken(event, source_id, source):
        raise KeyError("no row mapping")

    monkeypatch.setitem(batch_module.ROW_OF_TYPE, "ticket.created", broken)
    _, batch = build([("tickets", 0, raw(created("t1")))])
    assert [d.reason_code for d in batch.dead_letters] == ["internal"]
    assert "KeyError" in batch.dead_letters[0].reason
    assert batch.next_offsets == {("tickets", 0): 1}


_RECORD = st.tuples(st.sampled_from(["tickets", "messages"]), st.integers(0, 5), st.booleans(), st.booleans())


@given(st.lists(_RECORD, min_size=1, max_size=40), st.lists(st.integers(1, 40), max_size=5))
def test_merged_batches_are_the_batch_of_all_their_records(records, cuts):
    """Batches committed together (flights.py) write what one batch of the same records would."""
    values = []
    for i, (topic, ticket, repeat, bad) in enumerate(records):
        if bad:
            values.append((topic, i, b"{bad"))
        elif repeat and values:
            values.append((topic, i, values[-1][2]))  # a duplicate event id
        else:
            event = created(f"t{ticket}") if topic == "tickets" else message(f"t{ticket}")
            values.append((topic, i, raw({**event, "event_id": f"e{i}"})))
    _, whole = build(values)
    builder, parts, start = BatchBuilder(1000, "cluster-1"), [], 0
    for cut in [*sorted(set(cuts)), len(values)]:
        if start < cut <= len(values):
            part = Batch()
            for topic, offset, value in values[start:cut]:
                builder.add(part, SourceRef(topic, 0, offset), b"k", value)
            parts.append(part)
            start = cut
    merged = merge_batches(parts)

    def contents(batch):  # a dead letter's received_at is the clock when it was built
        return {t: {c: v for c, v in zip(b.columns, b.data, strict=True) if c != "received_at"}
                for t, b in batch.tables.items()}

    assert contents(merged) == contents(whole)
    assert (merged.records, merged.next_offsets, merged.consumed, merged.duplicates, merged.already_stored) == \
        (whole.records, whole.next_offsets, whole.consumed, whole.duplicates, whole.already_stored)
    assert [d.source for d in merged.dead_letters] == [d.source for d in whole.dead_letters]


@given(st.lists(st.lists(st.tuples(st.integers(0, 4), st.integers(0, 1000)), max_size=8), min_size=1, max_size=5))
def test_merged_state_rows_keep_each_tickets_last_version(batches):
    columns = ticket_store.COLUMNS
    parts, last = [], {}
    for rows in batches:
        part = Batch()
        part.tables["tickets"] = ColumnBatch(columns)
        for ticket, version in rows:
            row = tuple({"account_id": "acme", "ticket_id": f"t{ticket}", "version": version}.get(c) for c in columns)
            part.tables["tickets"].append(row)
            last[f"t{ticket}"] = version
        parts.append(part)
    merged = merge_batches(parts)
    if len(parts) == 1:
        return  # one batch is committed as it is
    stored = merged.tables["tickets"]
    data = dict(zip(columns, stored.data, strict=True)) if stored.rows else {"ticket_id": (), "version": ()}
    assert dict(zip(data["ticket_id"], data["version"], strict=True)) == last
    assert stored.rows == len(last)


def test_a_batch_is_due_when_full_or_when_its_window_passed_and_its_flush_could_start():
    def due(records, started, room, now=10.0):
        return batch_due(Batch(started=started, records=records), now, room, 100, 0.1)

    assert not due(0, 0.0, True)  # nothing to flush
    assert due(100, 9.99, False)  # full: flushed whatever waits (its flush waits for room)
    assert due(5, 9.85, True)  # its window passed
    assert not due(5, 9.95, True)  # its window has not passed
    # Its flush could not start (the batches before it are not applied, or too many wait for their commit):
    # it goes on gathering.
    assert not due(99, 9.0, False)


def test_stored_ticket_and_message_events_that_come_again_are_stated_again():
    """After a crash, records from offsets committed behind a waiting facts row come again: stored already, and
    known to the restored dedupe window, their tickets are stated again (tickets.restate)."""
    merge = raw(event("ticket.merged", ticket_id="p1", merged_ticket_id="m1"))
    records = [("tickets", 0, raw(created("t1"))), ("messages", 1, raw(message("t2"))), ("tickets", 2, merge),
               ("tickets", 3, raw(created("t4")))]
    builder, batch = build(records, {("ticket_events", "tickets", 0): 2, ("message_events", "messages", 0): 1})
    assert batch.restate == [(("acme", "t1"), 0), (("acme", "t2"), 0), (("acme", "p1"), 0), (("acme", "m1"), None)]
    again = Batch()  # the same records once more: now duplicates of the window, still stored
    for topic, offset, value in records:
        builder.add(again, SourceRef(topic, 0, offset), b"k", value)
    assert sum(again.duplicates.values()) == 4 and again.restate == batch.restate


def test_a_batch_knows_where_each_partition_began_and_a_merged_commit_holds_the_newest_hold():
    _, first = build([("tickets", 5, raw(created("a"))), ("tickets", 6, raw(created("b")))])
    _, second = build([("tickets", 7, raw(created("c"))), ("messages", 3, raw(message("c")))])
    assert first.first_offsets == {("tickets", 0): 5}
    first.hold, second.hold = {("tickets", 0): 5}, {("messages", 0): 3}
    merged = merge_batches([first, second])
    assert merged.first_offsets == {("tickets", 0): 5, ("messages", 0): 3}
    assert merged.next_offsets == {("tickets", 0): 8, ("messages", 0): 4}
    assert merged.hold == {("messages", 0): 3}  # what still waits after the newest apply
