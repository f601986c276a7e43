"""The web endpoints cannot harm ingestion or cross tenants (issue 10, findings 1, 6 and 7).

A non-SELECT query used to leave the connection the worker inserts through
in readonly mode: every later insert failed and retried forever.
"""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.parse
import urllib.request

import pytest

from tests.support.cli import deskpulse
from tests.support.events import created
from tests.support.http import fetch
from tests.support.pipeline import encoded, produce, sql
from tests.support.waiting import wait_until


def post(url: str, body: bytes, content_type: str = "application/json", token: str | None = None):
    headers = {"Content-Type": content_type, **({"Authorization": f"Bearer {token}"} if token else {})}
    request = urllib.request.Request(url, data=body, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def canary_stored(stack, ticket: str) -> bool:
    rows = sql(stack, f"SELECT count() AS n FROM ticket_events WHERE ticket_id = '{ticket}'")
    return int(rows[0]["n"]) == 1


@pytest.mark.parametrize("query", [
    "CREATE TABLE evil (x UInt8) ENGINE = Memory",
    "INSERT INTO ticket_events (account_id) VALUES ('x')",
    "SET readonly = 0",
    "SELECT 1; INSERT INTO ticket_events (account_id) VALUES ('x')",
])
def test_a_write_through_sql_is_refused_and_ingestion_goes_on(stack, start_worker, query):
    worker = start_worker(stack)
    status, body = post(f"{worker.web}/sql", json.dumps({"query": query}).encode())
    assert status == 400 and body["error"]
    produce(stack, encoded([created("after-sql")]))
    worker.wait_processed(1, timeout=60)
    wait_until(lambda: canary_stored(stack, "after-sql"), 30, "the canary stored after the refused query")
    # the same through the CLI, which goes to the worker's /sql while the worker holds the data dir
    cli = deskpulse("--data-dir", str(stack.data_dir), "sql", "DROP TABLE ticket_events", check=False)
    assert cli.returncode == 1 and len(cli.stderr.strip().splitlines()) == 1
    produce(stack, encoded([created("after-cli")]))
    worker.wait_processed(2, timeout=60)
    wait_until(lambda: canary_stored(stack, "after-cli"), 30, "the canary stored after the refused CLI query")


def test_sql_takes_json_only_is_limited_and_needs_the_admin_token(stack, start_worker):
    worker = start_worker(stack, DESKPULSE_API_TOKENS="acme=acme-secret", DESKPULSE_ADMIN_TOKEN="admin-secret")
    query = json.dumps({"query": "SELECT 1 AS one"}).encode()
    assert post(f"{worker.web}/sql", query, "text/plain", token="admin-secret")[0] == 415  # no form posts
    assert post(f"{worker.web}/sql", query)[0] == 401
    assert post(f"{worker.web}/sql", query, token="acme-secret")[0] == 401  # an account token is not enough
    status, body = post(f"{worker.web}/sql", query, token="admin-secret")
    assert status == 200 and body["rows"] == [[1]]
    huge = json.dumps({"query": "SELECT number FROM system.numbers LIMIT 10000000"}).encode()
    status, body = post(f"{worker.web}/sql", huge, token="admin-secret")
    assert status == 400 and "limit" in body["error"].lower()




def test_every_endpoint_but_health_needs_a_token_and_bad_input_is_a_400(stack, start_worker):
    worker = start_worker(stack, DESKPULSE_API_TOKENS="acme=acme-secret")
    base = f"{worker.web}/api/accounts/acme/summary"
    assert fetch(f"{worker.web}/healthz")[0] == 200
    assert fetch(f"{worker.web}/config/acme")[0] == 401  # an account's hours and policies are its own
    assert fetch(f"{worker.web}/config/acme", "acme-secret")[0] == 200
    assert fetch(base, "t\u00f6k\u00e9n")[0] == 401  # a non-ASCII token is just a wrong token
    for at in ("9999-12-31T00:00:00+00:00", "2026-11-02T10:00:00", "yesterday", "1" * 500):
        assert fetch(f"{base}?at={urllib.parse.quote(at)}", "acme-secret")[0] == 400, at
    for faust_page in ("/router/", "/table/", "/stats/"):  # Faust's own pages would bypass the tokens
        assert fetch(f"{worker.web}{faust_page}")[0] == 404, faust_page
    status, headers, _ = fetch(f"{worker.web}/dashboard/acme")
    assert status == 200 and "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Frame-Options"] == "DENY"


def test_the_api_listens_on_its_host_only(stack, start_worker):
    """`DESKPULSE_WEB_HOST` (127.0.0.1 by default) is where the API listens, not only what it is called: Faust
    binds 0.0.0.0 unless told, which opened a worker without tokens, judged safe on loopback, to the network.
    Every 127.x address reaches this machine; only a server bound to all of them answers on 127.0.0.2."""
    worker = start_worker(stack)
    with socket.create_connection(("127.0.0.1", worker.web_port), timeout=5):
        pass
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.2", worker.web_port), timeout=5).close()
