"""The live summary through the real broker and worker: JSON API, tenant isolation, the page in Chromium."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime, timedelta

import pytest

from tests.support.live import clear_of_midnight, get, todays_events
from tests.support.pipeline import encoded, produce, worker_ready
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration



def test_live_summary_api_with_drill_down_and_tenant_isolation(stack, start_worker):
    worker = start_worker(stack, DESKPULSE_API_TOKENS="acme=acme-secret,globex=globex-secret")
    try:
        wait_until(lambda: worker_ready(worker), 60, "a ready worker")
        clear_of_midnight()
        events = todays_events("acme", "L") + todays_events("globex", "G")[:2]
        produce(stack, encoded(events))
        worker.wait_processed(len(events), timeout=60)
        status, body = get(f"{worker.web}/api/accounts/acme/summary", "acme-secret")
        assert status == 200, body
        f = body["figures"]
        assert f["new_tickets"]["today"] == 2 and f["open_tickets"]["today"] == 1 and f["closed"]["today"] == 1
        assert f["avg_first_response_s"]["today"] == 61.0 and f["avg_time_to_close_s"]["today"] == 121.0
        assert f["messages_received"]["today"] == 2 and f["messages_sent"]["today"] == 1
        assert f["csat"]["today"] == 1.0 and f["calls_completed"]["today"] == 1
        assert f["call_duration_s"]["today"] == 120.0 and f["customer_wait_s"]["today"] == 60.0
        assert body["availability"]["reps"] == {"anna": "available"}
        assert body["by_channel"]["new"] == {"chat": 1, "email": 1}
        status, page = get(f"{worker.web}/api/accounts/acme/tickets?figure=closed", "acme-secret")
        assert status == 200 and page["total"] == 1 and page["tickets"][0]["ticket_id"] == "LA"
        assert page["tickets"][0]["subject"] == "<script>alert('x')</script> printer"  # JSON carries it as data
        status, billing = get(f"{worker.web}/api/accounts/acme/summary?team=billing", "acme-secret")
        assert billing["figures"]["new_tickets"]["today"] == 1 and billing["figures"]["closed"]["today"] == 0
        # tenant isolation: a token opens its own account only
        assert get(f"{worker.web}/api/accounts/globex/summary", "acme-secret")[0] == 401
        assert get(f"{worker.web}/api/accounts/acme/tickets?figure=closed", "globex-secret")[0] == 401
        assert get(f"{worker.web}/api/accounts/acme/summary")[0] == 401
        with urllib.request.urlopen(f"{worker.web}/metrics", timeout=10) as response:
            exported = response.read().decode()
        assert 'deskpulse_live_open_tickets{account_id="acme"} 1.0' in exported
        assert 'deskpulse_events_consumed_total{topic="messages",type="message.created"}' in exported
        status, other = get(f"{worker.web}/api/accounts/globex/summary", "globex-secret")
        assert status == 200 and other["figures"]["new_tickets"]["today"] == 2
        assert other["figures"]["closed"]["today"] == 0  # acme's close is not globex's
    finally:
        worker.stop()


def test_polls_share_an_answer_until_their_account_changes(stack, start_worker):
    """Polls of an unchanged account share one computed answer (the same `now`), however many. Another
    account's events leave it shared. An applied event of the account is in the very next answer, even one
    that changes no ticket's metrics (a customer's second message while already waiting), however young the
    shared answer is. The live index marks every change it needs: its check after each apply mends none."""
    worker = start_worker(stack, DESKPULSE_LIVE_ANSWER_MAX_AGE_S="60", DESKPULSE_LIVE_INDEX_CHECK_S="0")
    try:
        wait_until(lambda: worker_ready(worker), 60, "a ready worker")
        clear_of_midnight()
        acme = todays_events("acme", "S")
        produce(stack, encoded(acme))
        worker.wait_processed(len(acme), timeout=60)
        summary = f"{worker.web}/api/accounts/acme/summary"
        first = get(summary)[1]
        assert all(get(summary)[1]["now"] == first["now"] for _ in range(3))
        assert get(f"{summary}?team=billing")[1]["now"] != first["now"]  # other filters: another answer
        globex = todays_events("globex", "T")
        produce(stack, encoded(globex))
        worker.wait_processed(len(acme) + len(globex), timeout=60)
        assert get(summary)[1]["now"] == first["now"]
        waiting = next(e for e in acme if e["type"] == "message.created" and e["ticket_id"] == "SB")
        again = {**waiting, "event_id": f"{waiting['event_id']}-again", "message_id": "Sm4"}
        produce(stack, encoded([again]))
        worker.wait_processed(len(acme) + len(globex) + 1, timeout=60)
        after = get(summary)[1]
        assert after["now"] != first["now"]
        assert after["figures"]["messages_received"]["today"] == first["figures"]["messages_received"]["today"] + 1
        with urllib.request.urlopen(f"{worker.web}/metrics", timeout=10) as response:
            exported = response.read().decode()
        assert 'deskpulse_live_answers_total{result="shared"} 4.0' in exported
        index = worker.stats()["live_index"]
        assert index["accounts"] == 1 and index["tickets"] >= 2 and index["repaired"] == 0, index
    finally:
        worker.stop()


def worker_sql(worker, query: str, parameters: dict) -> list[dict]:
    request = urllib.request.Request(f"{worker.web}/sql", data=json.dumps(
        {"query": query, "parameters": parameters}).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        body = json.loads(response.read())
    return [dict(zip(body["columns"], row, strict=True)) for row in body["rows"]]


def test_live_figures_of_a_finished_day_equal_clickhouse(stack, start_worker):
    """Yesterday, simulated: what the live API said at its last moment is what SQL says of the day."""
    from zoneinfo import ZoneInfo

    from sinks.reports import report_sql
    from streams.core.live_day import day_bounds
    from tests.support.cli import deskpulse

    # Each account's own yesterday: over in its zone and inside the live keeper's 50 hours whatever the hour in
    # UTC (one UTC date failed in CI at 01:00 UTC: New York's day was not over yet).
    zones = {"acme": "Europe/Stockholm", "globex": "America/New_York"}
    days = {account: datetime.now(ZoneInfo(tz)).date() - timedelta(days=1) for account, tz in zones.items()}
    first = min(days.values()) - timedelta(days=1)
    deskpulse("--broker", stack.broker, "--topic-prefix", stack.topic_prefix, "simulate", "--seed", "11",
              "--start", str(first), "--days", str((max(days.values()) - first).days + 1), "--fast")
    worker = start_worker(stack)
    try:
        wait_until(lambda: (worker.stats() or {}).get("records", 0) > 1000 and worker.stats()["lag"]
                   and not any(worker.stats()["lag"].values()), 120, "the simulated days to be processed")
        time.sleep(1)
        compared = 0
        for account, tz in zones.items():
            day = days[account]
            start, end = day_bounds(day, ZoneInfo(tz))
            at = (end - timedelta(milliseconds=1)).isoformat()
            status, live = get(f"{worker.web}/api/accounts/{account}/summary?at={urllib.parse.quote(at)}")
            assert status == 200, live
            assert live["today"] == str(day)
            [history] = worker_sql(worker, report_sql("day-summary"),
                                   {"account": account, "day": str(day), "tz": tz, "closed": ["closed"]})
            for name, value in history.items():
                value = None if isinstance(value, float) and value != value else value  # nan: no data
                assert live["figures"][name]["today"] == value, (account, name, live["figures"][name], value)
                compared += 1
            assert live["figures"]["new_tickets"]["today"] > 20  # a real day, not an empty one
            compared += _agrees_with_the_catalogue(worker, account, day, live["figures"])
        assert compared == 2 * (15 + 9)
    finally:
        worker.stop()


def _agrees_with_the_catalogue(worker, account: str, day, figures: dict) -> int:
    """The live figures of a finished day against the catalogue reports over that one day (issue 8)."""
    def report(name: str, **extra: str) -> list[dict]:
        query = urllib.parse.urlencode({"from": str(day), "to": str(day), **extra})
        status, answer = get(f"{worker.web}/api/accounts/{account}/reports/{name}?{query}")
        assert status == 200, answer
        return [dict(zip(answer["columns"], row, strict=True)) for row in answer["rows"]]

    def live(name: str):
        return figures[name]["today"]

    def near(a, b) -> bool:  # reports round averages to 0.1 s and shares to 4 places
        return a is None and b is None or a is not None and b is not None and abs(a - b) <= 0.05 + 1e-9

    [created] = report("tickets-created", freq="day")
    assert live("new_tickets") == created["tickets_created"]
    hours = report("time-of-day")
    assert live("messages_received") == sum(h["received"] for h in hours)
    assert live("messages_sent") == sum(h["sent"] for h in hours)
    assert live("peak_incoming_hour") == min(hours, key=lambda h: (-h["received"], h["hour"]))["hour"]
    assert live("peak_outgoing_hour") == min(hours, key=lambda h: (-h["sent"], h["hour"]))["hour"]
    [waits] = report("customer-wait-time", freq="day")
    assert near(live("customer_wait_s"), waits["avg_wait_s"]), (live("customer_wait_s"), waits)
    [replies] = report("customer-reply-time", freq="day")
    assert near(live("rep_wait_s"), replies["avg_customer_reply_s"]), (live("rep_wait_s"), replies)
    csat = report("csat", freq="day")
    answers = sum(r["answers"] for r in csat)
    share = sum(r["satisfied"] for r in csat) / answers if answers else None
    # the live share is rounded to 4 places, as every share in the API is
    assert live("csat") == share or abs(live("csat") - share) <= 0.00005 + 1e-12, (live("csat"), csat)
    closes = report("time-to-close", freq="day")
    assert live("closed") >= sum(r["tickets"] for r in closes)  # live counts every entry into a closed stage
    return 9


def test_any_of_two_workers_answers_for_the_whole_account(stack, start_worker):
    """No peer list: the workers find each other on the `workers` topic (issue 13)."""
    from deskpulse.embedded_broker import free_port

    ports = [free_port(), free_port()]
    urls = [f"http://127.0.0.1:{p}" for p in ports]
    workers = []
    for i, settings in enumerate((stack, stack.with_overrides(data_dir=stack.data_dir.parent / "second"))):
        workers.append(start_worker(settings, ready=False, port=ports[i]))
    try:
        for w in workers:
            w.wait_ready()
        wait_until(lambda: all(worker_ready(w) for w in workers) and not set(workers[0].stats()["assigned"])
                   & set(workers[1].stats()["assigned"]), 60, "two workers sharing the partitions")
        events = [e for prefix in ("W1", "W2", "W3") for e in todays_events("acme", prefix)]
        produce(stack, encoded(events))
        wait_until(lambda: sum(w.stats()["records"] for w in workers) >= len(events), 60, "every event processed")
        assert all(w.stats()["records"] > 0 for w in workers)  # the account's tickets are split between them
        answers = [get(f"{w.web}/api/accounts/acme/summary")[1] for w in workers]
        for answer in answers:
            assert answer["workers"] == 2 and answer["missing_workers"] == []
            f = answer["figures"]
            assert (f["new_tickets"]["today"], f["closed"]["today"], f["calls_completed"]["today"]) == (6, 3, 3)
            assert f["avg_first_response_s"]["today"] == 61.0 and f["messages_received"]["today"] == 6
        same = [{k: v for k, v in a["figures"].items() if k != "customer_wait_now_s"} for a in answers]
        assert same[0] == same[1]  # (the waits "now" differ by the milliseconds between the two requests)
        _, page = get(f"{workers[1].web}/api/accounts/acme/tickets?figure=closed")
        assert page["total"] == 3 and {t["ticket_id"] for t in page["tickets"]} == {"W1A", "W2A", "W3A"}
        assert all(t["subject"].endswith("printer") for t in page["tickets"])  # details from whichever holds them
        killed = datetime.now(UTC)
        workers[1].kill()

        def answered_after_the_kill():  # an answer may be a second old (live_answers.py)
            answer = get(f"{workers[0].web}/api/accounts/acme/summary")[1]
            return answer if datetime.fromisoformat(answer["now"]) > killed else None

        alone = wait_until(answered_after_the_kill, 10, "an answer computed after the kill")
        assert alone["missing_workers"] == [urls[1]] and alone["workers"] == 1  # said, not hidden
        # killed without a word, it stops announcing itself and leaves the answer within seconds
        wait_until(lambda: get(f"{workers[0].web}/api/accounts/acme/summary")[1]["missing_workers"] == [], 20,
                   "the killed worker to leave the answer")
    finally:
        for w in workers:
            w.stop()
