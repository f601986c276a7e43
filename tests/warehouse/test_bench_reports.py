"""`make bench-reports` on a small history: every catalogued report runs on the loaded data (the benchmark
once stopped at a report added after it, which no test ran)."""

from __future__ import annotations

import re

from deskpulse.bench_reports import run_bench_reports
from sinks.reports import catalogue


def test_every_report_runs_on_the_benchmark_history(clean_warehouse):
    warehouse = clean_warehouse  # the session's chDB: a process opens one path only (a path of its own failed in CI)
    lines: list[str] = []
    assert run_bench_reports(tickets=200, copies=8, echo=lines.append, warehouse=warehouse) == 0
    summary = next(line for line in lines if line.startswith("bench-reports:"))
    ran = int(re.search(r"reports=(\d+)", summary).group(1))
    expected = sum(1 if report.parameters else 2 for report in catalogue().values())
    assert ran == expected, summary
    # the copies carry the AI agent's conversations, handed off to tickets that exist in the same copy
    handed, joined = warehouse.query(
        "SELECT countIf(c.handed_off), countIf(c.handed_off AND t.ticket_id != '') "
        "FROM agent_conversation_facts AS c FINAL LEFT JOIN ticket_facts AS t FINAL "
        "ON t.account_id = c.account_id AND t.ticket_id = c.ticket_id").result_rows[0]
    assert handed > 0 and joined == handed
