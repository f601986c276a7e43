"""kill -9 at random points under load (issue 10): every event stored once, every alert raised once, and the
facts equal a clean run's. `make chaos` runs the same at a larger scale."""

from __future__ import annotations

from deskpulse.chaos import run_chaos


def test_ten_kills_under_load_lose_nothing_double_nothing_and_change_no_fact(broker, tmp_path):
    from streams.worker.settings import Settings

    lines: list[str] = []
    result = run_chaos(Settings(broker=broker.url, partitions=3), kills=10, events=6000, seed=11,
                       echo=lines.append, workdir=tmp_path)
    assert result.events > 6000 and result.tickets > 500, lines
    assert (result.lost, result.duplicated, result.alerts_duplicated, result.facts_mismatch) == (0, 0, 0, 0), lines
