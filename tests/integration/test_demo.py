"""`deskpulse demo` end to end: embedded broker, worker, simulator, clean timed stop."""

import re

import pytest

from tests.support.cli import deskpulse

pytestmark = pytest.mark.integration


def test_demo_runs_and_stops_cleanly_with_a_summary(tmp_path):
    result = deskpulse("--data-dir", str(tmp_path / "demo"), "demo", "--duration", "4", "--history-days", "0.5",
                       "--bad-ratio", "0.01", timeout=240)
    out = result.stdout
    assert "embedded Tansu" in out and "chdb://" in out
    assert re.search(r"dashboard\s+http://127\.0\.0\.1:\d+/dashboard/acme", out)
    produced, bad = map(int, re.search(r"produced\s+(\d+) events \((\d+) malformed", out).groups())
    events, dead, dups = map(int, re.search(r"processed\s+(\d+) events, (\d+) dead-lettered, (\d+) duplicates",
                                            out).groups())
    assert produced > 100 and dead == bad and dups == 0 and events + dead == produced
    rows = dict((k, int(v)) for k, v in re.findall(r"(\w+)=(\d+)", out.split("rows", 1)[1]))
    raw = sum(n for t, n in rows.items() if t.endswith("_events"))
    assert raw == events and rows["dead_letters"] == bad
    # The worker and the broker are gone: the data dir is free for the CLI.
    count = deskpulse("--data-dir", str(tmp_path / "demo"), "sql", "SELECT count() FROM ticket_events",
                      "--format", "csv").stdout.splitlines()[1]
    assert int(count) == rows["ticket_events"]
