"""`make bench`'s memory run, small: a worker restoring a history past the eviction horizon holds its open
tickets only (issue 13), and the benchmark reports what it measured."""

from __future__ import annotations

from deskpulse.bench_memory import run_memory_bench


def test_a_worker_restores_only_the_open_tickets_of_an_old_history(stack, tmp_path):
    lines: list[str] = []
    figures = run_memory_bench(stack, tmp_path, 3000, lines.append)
    assert figures["tickets"] == 3000
    assert 0 < figures["open"] < 3000 * 0.1  # the template closes 98 %
    # every ticket of the history is older than 72 h: the closed ones stay in ClickHouse
    assert figures["resident"] == figures["open"]
    assert figures["restore_s"] > 0 and figures["rss_mb"] > 0
    assert lines[0].startswith(f"bench-memory: tickets=3000 resident={figures['open']} ")
