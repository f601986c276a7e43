"""Hostile records through the real broker and worker: each is dead-lettered, and a canary still gets through.

Issue 10, finding 2: a record whose dead letter would exceed the broker's
request size crashed the worker on every restart.
"""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kafka import KafkaProducer

from tests.support.events import created
from tests.support.live import get, stamp
from tests.support.pipeline import dead_letter_messages, encoded, produce, sql
from tests.support.waiting import wait_until


def _produce_large(settings, topic: str, key: bytes, value: bytes) -> None:
    producer = KafkaProducer(bootstrap_servers=settings.bootstrap, max_request_size=8 * 1024 * 1024)
    producer.send(settings.topic(topic), key=key, value=value)
    producer.flush()
    producer.close()


def test_oversized_records_are_dead_lettered_and_the_partition_goes_on(stack, start_worker):
    worker = start_worker(stack)
    huge_type = json.dumps({**created("big1"), "type": "ticket." + "x" * 2_000_000}).encode()
    huge_invalid = b"{" + b"y" * 3_000_000
    _produce_large(stack, "tickets", b"big1", huge_type)
    _produce_large(stack, "tickets", b"big1", huge_invalid)
    produce(stack, encoded([created("canary1")]))
    worker.wait_processed(3, timeout=60)
    wait_until(lambda: sql(stack, "SELECT count() AS n FROM ticket_events WHERE ticket_id = 'canary1'")[0]["n"]
               in (1, "1"), 30, "the canary in ClickHouse")
    stored = sql(stack, "SELECT reason_code, length(raw) AS size, length(reason) AS reason_size FROM dead_letters "
                        "ORDER BY _offset")
    assert [r["reason_code"] for r in stored] == ["unknown_type", "invalid_json"]
    assert all(int(r["size"]) > 1_000_000 for r in stored)  # the originals are kept in ClickHouse
    assert all(int(r["reason_size"]) <= 500 for r in stored)
    letters = dead_letter_messages(stack, 2)
    assert len(letters) == 2
    for letter in letters:
        headers = dict(letter.headers)
        assert letter.value == b"" and b"dead_letters table" in headers["deskpulse.original"]
    assert worker.stats()["dead_lettered"] == 2


TOPICS = ["tickets", "messages", "feedback", "availability", "calls", "agent", "config"]
KINDS = ["ticket.created", "ticket.updated", "ticket.merged", "message.created", "feedback.submitted",
         "rep.status_changed", "call.ended", "agent.unanswered", "config.updated"]
extreme = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
                    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=50),
                    st.text(min_size=1, max_size=20).map(lambda s: (s * 300_000)[:300_000]),  # big
                    st.sampled_from(["1970-01-01T00:00:00+00:00", "9999-12-31T23:59:59+14:00", "\x00", "🎫" * 999]),
                    st.lists(st.integers(), max_size=3),
                    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3))


@st.composite
def hostile_record(draw):
    """(topic, key, value): random bytes, random JSON, or a valid-shaped event with extreme field values."""
    topic = draw(st.sampled_from(TOPICS))
    key = draw(st.binary(max_size=40))
    shape = draw(st.sampled_from(["bytes", "json", "event"]))
    if shape == "bytes":
        return topic, key, draw(st.binary(max_size=3_000))
    if shape == "json":
        return topic, key, json.dumps(draw(extreme)).encode()
    base = {**created("fz"), "type": draw(st.sampled_from(KINDS))}
    fields = draw(st.dictionaries(st.sampled_from(["event_id", "account_id", "occurred_at", "ticket_id", "owner_id",
                                                    "subject", "status", "direction", "score", "scale", "config",
                                                    "duration_s", "started_at", "question", "merged_ticket_id"]),
                                  extreme, max_size=4))
    return topic, key, json.dumps({**base, **fields}, default=str).encode()


def test_fuzzed_records_are_each_stored_or_dead_lettered_and_a_canary_still_arrives(stack, start_worker):
    worker = start_worker(stack)
    sent = {"records": 0, "rounds": 0}

    @settings(max_examples=3, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(st.lists(hostile_record(), min_size=40, max_size=40))
    def round_of(records):
        sent["rounds"] += 1
        for topic, key, value in records:
            _produce_large(stack, topic, key, value)
        canary = f"canary{sent['rounds']}"
        produce(stack, encoded([{**created(canary, at=stamp()), "account_id": "acme"}]))
        sent["records"] += len(records) + 1
        stats = worker.wait_processed(sent["records"], timeout=120)
        # every record is accounted for: stored, dead-lettered, or a duplicate of one stored
        assert stats["records"] == stats["events"] + stats["dead_lettered"] + stats["duplicates"] + \
            stats["already_stored"], stats
        wait_until(lambda: sql(stack, f"SELECT count() AS n FROM ticket_events WHERE ticket_id = '{canary}'")[0]["n"]
                   in (1, "1"), 30, "the canary in ClickHouse")
        wait_until(lambda: canary in {t["ticket_id"] for t in get(
            f"{worker.web}/api/accounts/acme/tickets?figure=new_tickets&per_page=500")[1]["tickets"]},
            30, "the canary in the live API")

    round_of()
    stored_dead = int(sql(stack, "SELECT count() AS n FROM dead_letters")[0]["n"])
    assert stored_dead == worker.stats()["dead_lettered"]  # the table holds every dead letter counted


def test_a_merge_cycle_is_dead_lettered_and_both_tickets_stay_in_the_reports(stack, start_worker):
    """Issue 10, finding 7: A into B, then B into A made both tickets vanish from the reports."""
    from tests.support.events import event, message

    worker = start_worker(stack)
    produce(stack, encoded([created("cyA"), created("cyB"), message("cyA"), message("cyB")]))
    produce(stack, encoded([event("ticket.merged", at="2026-11-02T11:00:00+00:00", ticket_id="cyB",
                                  merged_ticket_id="cyA")]))
    worker.wait_processed(5, timeout=60)
    produce(stack, encoded([event("ticket.merged", at="2026-11-02T12:00:00+00:00", ticket_id="cyA",
                                  merged_ticket_id="cyB")]))
    worker.wait_processed(6, timeout=60)
    wait_until(lambda: sql(stack, "SELECT count() AS n FROM dead_letters WHERE reason_code = 'merge_cycle'")[0]["n"]
               in (1, "1"), 30, "the refused merge dead-lettered")
    merges = sql(stack, "SELECT ticket_id, merged_ticket_id FROM ticket_events WHERE type = 'ticket.merged'")
    assert [(m["ticket_id"], m["merged_ticket_id"]) for m in merges] == [("cyB", "cyA")]
    current = {r["ticket_id"]: r["merged_into"]
               for r in sql(stack, "SELECT ticket_id, merged_into FROM tickets_current")}
    assert current == {"cyA": "cyB", "cyB": ""}
    wait_until(lambda: [r["ticket_id"] for r in sql(stack, "SELECT ticket_id FROM ticket_facts_current")] == ["cyB"],
               30, "the primary in the facts the reports read")
    stats = worker.stats()
    assert stats["dead_lettered"] == 1 and stats["events"] == 5


def test_a_ticket_past_its_step_limit_dead_letters_the_rest_and_the_worker_goes_on(stack, start_worker):
    """Issue 10, finding 5: memory per ticket is bounded; what a full ticket refuses is kept and counted."""
    from streams.core.folds import MAX_TICKET_STEPS
    from tests.support.events import message

    worker = start_worker(stack)
    over = 5
    events = [created("loop1")] + [message("loop1", "inbound" if i % 2 else "outbound",
                                           at=f"2026-11-02T{10 + i // 3600:02d}:{i // 60 % 60:02d}:{i % 60:02d}+00:00")
                                   for i in range(1, MAX_TICKET_STEPS + over)]
    produce(stack, encoded(events))
    produce(stack, encoded([created("canary-loop")]))
    worker.wait_processed(len(events) + 1, timeout=120)
    letters = sql(stack, "SELECT reason_code, count() AS n FROM dead_letters GROUP BY reason_code")
    assert [(r["reason_code"], int(r["n"])) for r in letters] == [("ticket_too_long", over)]
    stored = sql(stack, "SELECT count() AS n FROM message_events WHERE ticket_id = 'loop1'")[0]["n"]
    assert int(stored) == MAX_TICKET_STEPS - 1  # with its creation: MAX_TICKET_STEPS steps
    wait_until(lambda: sql(stack, "SELECT count() AS n FROM ticket_facts_current WHERE ticket_id = 'canary-loop'"
                           )[0]["n"] in (1, "1"), 30, "the canary's facts")
    stats = worker.stats()
    assert stats["dead_lettered"] == over and stats["events"] == len(events) + 1 - over
