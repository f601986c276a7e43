"""The first hour with the command line (issue 11): each wall a new user hit, walked again.

Every mistake gives one line that names the next step, exit code 1 (or 2 for
a usage error); every report `deskpulse report` lists runs on the demo's data.
"""

from __future__ import annotations

import csv
import io
import os
import re
import signal
import subprocess
import sys
import time
from datetime import date, timedelta

import pytest

from deskpulse.embedded_broker import free_port
from deskpulse.worker_process import WorkerError, WorkerProcess
from streams.worker.settings import Settings
from tests.support.cli import ROOT, deskpulse


def _one_line_error(result, code: int, *fragments: str) -> str:
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("deskpulse: error:"), lines
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory):
    """A short demo, with the common option after the subcommand (it used to be 'No such option').

    Four days of history: the simulator starts a rep's day at the start of their shift, so a history that
    begins after the shifts of a Friday began and runs over the weekend holds no status change of acme's reps
    (two days, run on a Sunday after 11:00 UTC, gave rep-availability no rows). Four days always hold a
    weekday's shift start."""
    data = tmp_path_factory.mktemp("first-hour") / "data"
    result = deskpulse("demo", "--data-dir", str(data), "--duration", "3", "--history-days", "4", timeout=300)
    assert "processed " in result.stdout
    return data


def test_version():
    assert re.fullmatch(r"deskpulse \d+\.\d+\.\d+\n", deskpulse("--version").stdout)


def test_every_listed_report_runs_on_the_demo_data(demo_dir):
    listed = [line.split()[0] for line in deskpulse("report").stdout.splitlines() if line.strip()]
    assert len(listed) >= 5 and "day-summary" in listed
    from sinks.reports import catalogue

    for name in listed:
        report = catalogue()[name]
        extra = ["--freq", "week"] if report.periods and not report.parameters else []
        if name == "day-summary":
            extra = ["--day", str(date.today() - timedelta(days=1))]
        result = deskpulse("report", name, "--data-dir", str(demo_dir), "--account", "acme", *extra, check=False)
        assert result.returncode == 0, (name, result.stderr)
        assert "(1 row)" in result.stdout or re.search(r"\((\d+) rows\)", result.stdout), (name, result.stdout)
        assert "(0 rows)" not in result.stdout, name


def test_report_tables_read_like_people_write(demo_dir):
    out = deskpulse("report", "time-to-first-response", "--data-dir", str(demo_dir), "--account", "acme",
                    "--freq", "quarter", "--by", "team").stdout
    assert re.search(r"\b\d{4}-Q[1-4]\b", out), out
    assert re.search(r"\b(\d+h \d{2}m|\d+m \d{2}s|\d+s)\b", out), out  # durations in human units
    assert not re.search(r"\b\d+\.\d+\b", out), out  # no raw seconds with decimals
    as_csv = deskpulse("report", "time-to-first-response", "--data-dir", str(demo_dir), "--account", "acme",
                      "--freq", "quarter", "--format", "csv").stdout
    assert re.search(r",\d{4}-\d{2}-01,", as_csv) and re.search(r"\d+\.\d", as_csv)  # csv keeps dates and seconds


def test_report_rows_totals_and_hours_on_the_demo_data(demo_dir):
    def csv_rows(*args: str) -> list[dict]:
        out = deskpulse("report", "tickets-closed", "--data-dir", str(demo_dir), "--account", "acme",
                        "--format", "csv", *args).stdout
        return list(csv.DictReader(io.StringIO(out)))

    weeks = csv_rows("--freq", "week", "--by", "team")
    busiest = max(weeks, key=lambda r: int(r["tickets_closed"]))
    behind = csv_rows("--freq", "week", "--by", "team", "--rows", "--only", f"period={busiest['period']}",
                      "--only", f"group={busiest['group']}")
    assert len(behind) == int(busiest["tickets_closed"]) and len({r["ticket_id"] for r in behind}) == len(behind)
    totals = csv_rows("--view", "totals", "--by", "team")
    assert sum(int(r["tickets_closed"]) for r in totals) == sum(int(r["tickets_closed"]) for r in weeks)
    table = deskpulse("report", "time-to-close", "--data-dir", str(demo_dir), "--account", "acme", "--view",
                      "totals", "--hours", "sla").stdout
    assert " – " in table and "avg_time_to_close_sla" in table and "avg_time_to_close " not in table


@pytest.mark.parametrize(("args", "fragments"), [
    (["report", "tickets-closed", "--only", "period"], ["--only takes COLUMN=VALUE"]),
    (["report", "tickets-closed", "--groups", "billing"], ["add --by rep or --by team"]),
    (["report", "tickets-closed", "--account", "acme", "--rep", "nobody"], ["has rep 'nobody'", "known: "]),
    (["report", "tickets-created", "--groups", "billing"], ["does not take --groups"]),
    (["report", "tickets-closed", "--only", "period=2026-01-05"], ["add --rows"]),
    (["report", "time-to-close", "--priority", "hgih"], ["no ticket", "'hgih'", "known: ", "high"]),
    (["report", "tickets-created", "--account", "acmee"], ["unknown account 'acmee'", "known: acme, globex"]),
    (["report", "tickets-created", "--by", "rep"], ["does not take --by", "it takes"]),
    (["report", "tickets-created", "--tz", "Nowhere/Land"], ["unknown time zone", "Europe/Stockholm"]),
    (["report", "day-summary"], ["needs --account"]),
    (["report", "day-summary", "--account", "acme", "--freq", "week"], ["does not take --freq"]),
    (["report", "no-such-report"], ["unknown report", "`deskpulse report` lists"]),
])
def test_report_mistakes_are_one_line_that_says_what_is_known(demo_dir, args, fragments):
    _one_line_error(deskpulse(*args, "--data-dir", str(demo_dir), check=False), 1, *fragments)


def test_a_usage_mistake_exits_2(demo_dir):
    _one_line_error(deskpulse("demo", "--data-dir", str(demo_dir), "--no-such", check=False), 2, "No such option")


def test_sql_elsewhere_refuses_an_empty_data_dir_and_creates_nothing(tmp_path):
    result = subprocess.run([sys.executable, "-m", "deskpulse", "sql", "SELECT 1"], cwd=tmp_path, text=True,
                            capture_output=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=60)
    _one_line_error(result, 1, "no deskpulse data in", "make demo", "--data-dir")
    assert not (tmp_path / ".deskpulse").exists()


def test_a_second_demo_on_a_held_data_dir_names_the_holder(tmp_path):
    data = tmp_path / "data"
    first = subprocess.Popen([sys.executable, "-m", "deskpulse", "demo", "--data-dir", str(data), "--history-days",
                              "0.2"], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 240
        while not (data / "worker.json").exists():
            assert first.poll() is None and time.monotonic() < deadline
            time.sleep(0.5)
        line = _one_line_error(deskpulse("demo", "--data-dir", str(data), check=False), 1,
                               "another deskpulse (worker pid", "stop it", "another --data-dir")
        assert str(data.resolve()) in line
    finally:
        os.killpg(first.pid, signal.SIGINT)
        first.wait(120)


def test_config_check_lists_every_problem_with_file_and_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("account_id: b\ntimezone: Mars/Base\ncalendars:\n  c:\n    hours: {mon: ['9-5']}\n"
                   "    holidays: [2026-02-30]\n")
    result = deskpulse("config", "check", str(bad), check=False)
    problems = result.stdout.strip().splitlines()
    assert [p.split(": ")[1] for p in problems] == ["line 2", "line 5", "line 6"], problems
    assert all(p.startswith(f"{bad}: line ") for p in problems)
    _one_line_error(result, 1, "1 of 1 file(s) invalid")


def test_a_worker_that_fails_says_why_and_where_its_log_is(tmp_path):
    settings = Settings(data_dir=tmp_path / "data", broker="kafka://127.0.0.1:1", topic_prefix="x.")
    worker = WorkerProcess(settings, free_port(), tmp_path / "worker.log").start()
    with pytest.raises(WorkerError) as caught:
        worker.wait_ready(timeout=120)
    message = str(caught.value)
    assert "exited with code 1" in message and "deskpulse: error:" in message
    assert str(tmp_path / "worker.log") in message
    assert "\n" not in message
