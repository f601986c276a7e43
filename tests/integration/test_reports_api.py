"""Reports over HTTP (issue 8): the CLI's options as query parameters, JSON or CSV, one account per token."""

from __future__ import annotations

import csv
import io
import json

from tests.support.http import fetch
from tests.support.live import todays_events
from tests.support.pipeline import encoded, produce
from tests.support.waiting import wait_until


def test_reports_api_per_account_json_and_csv(stack, start_worker):
    worker = start_worker(stack, DESKPULSE_API_TOKENS="acme=acme-secret,globex=globex-secret")
    events = todays_events("acme", "R") + todays_events("globex", "G")
    produce(stack, encoded(events))
    worker.wait_processed(len(events), timeout=60)
    base = f"{worker.web}/api/accounts/acme/reports"

    def answered() -> dict | None:
        status, _, body = fetch(f"{base}/tickets-created?freq=week", "acme-secret")
        answer = json.loads(body)
        assert status == 200, answer
        return answer if answer["rows"] else None

    answer = wait_until(answered, 30, "acme's tickets in the report")
    assert answer["columns"] == ["account_id", "period", "tickets_created"]
    assert [row[0] for row in answer["rows"]] == ["acme"] and answer["rows"][0][2] == 2  # globex's are not here

    status, headers, body = fetch(f"{base}/time-to-first-response?by=team&format=csv", "acme-secret")
    assert status == 200 and headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(body.decode())))
    assert rows[0][:3] == ["account_id", "period", "group"] and {r[2] for r in rows[1:]} == {"support"}

    assert fetch(f"{base}/tickets-created", "globex-secret")[0] == 401  # another account's token
    assert fetch(f"{base}/tickets-created")[0] == 401
    for query, status_wanted, fragment in [
        ("no-such-report", 404, "unknown report"),
        ("tickets-created?by=rep", 400, "does not take --by"),
        ("tickets-created?account=globex", 400, "unknown parameter"),
        ("tickets-created?from=yesterday", 400, "must be a date"),
        ("tickets-created?priority=hgih", 400, "known: "),
        ("tickets-created?tz=Mars/Base", 400, "unknown time zone"),
        ("tickets-created?format=xml", 400, "format"),
    ]:
        status, _, body = fetch(f"{base}/{query}", "acme-secret")
        assert status == status_wanted and fragment in json.loads(body)["error"], (query, status, body)

    # the rows behind a number (rows=true, CSV too) and those behind one report row (only.COLUMN)
    status, _, body = fetch(f"{base}/time-to-first-response?by=team", "acme-secret")
    report = json.loads(body)
    columns = report["columns"]
    first = dict(zip(columns, report["rows"][0], strict=True))
    status, _, body = fetch(f"{base}/time-to-first-response?by=team&rows=true&only.period={first['period']}"
                            f"&only.group={first['group']}", "acme-secret")
    behind = json.loads(body)
    assert status == 200 and len(behind["rows"]) == first["tickets"]
    ids = {dict(zip(behind["columns"], r, strict=True))["ticket_id"] for r in behind["rows"]}
    status, headers, body = fetch(f"{base}/time-to-first-response?by=team&rows=true&format=csv", "acme-secret")
    exported = list(csv.DictReader(io.StringIO(body.decode())))
    assert status == 200 and {r["ticket_id"] for r in exported} >= ids
    status, _, body = fetch(f"{base}/time-to-first-response?view=totals&hours=sla", "acme-secret")
    totals = json.loads(body)
    assert status == 200 and "avg_first_response_s" not in totals["columns"]
    assert "avg_first_response_sla_s" in totals["columns"] and len(totals["rows"]) == 1
    status, _, body = fetch(f"{base}/time-to-first-response?by=team&groups=billing,nobody", "acme-secret")
    assert status == 200 and json.loads(body)["rows"] == []  # acme's answered tickets are all support's
    for query, fragment in [
        ("time-to-first-response?only.period=2026-01-01", "add --rows"),
        ("time-to-first-response?rows=true&only.ticket_id=x", "cannot be narrowed by 'ticket_id'"),
        ("time-to-first-response?hours=business", "hours must be"),
        ("time-of-day?view=totals", "does not take --view"),
        ("tickets-created?hours=sla", "does not take --hours"),
    ]:
        status, _, body = fetch(f"{base}/{query}", "acme-secret")
        assert status == 400 and fragment in json.loads(body)["error"], (query, status, body)
