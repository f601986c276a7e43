"""CLI errors are one clear line and a non-zero exit."""

import pytest

from tests.support.cli import deskpulse


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["worker"], "needs a broker"),
        (["--broker", "localhost:9092", "sql", "SELECT 1"], "kafka://host:port"),
        (["--clickhouse", "mysql://x", "sql", "SELECT 1"], "chdb:///dir"),
        (["report", "no-such-report"], "unknown report"),
        (["report", "tickets-created", "--freq", "hourly"], "hourly"),
        (["report", "tickets-created", "--from", "2026-11-05", "--to", "2026-11-01"], "before"),
        (["simulate", "--broker", "kafka://127.0.0.1:1", "--start", "2026-01-01"], "add --fast"),
        (["sql", "SELECT 1"], "no deskpulse data in"),
        (["report", "tickets-created", "--account", "acme"], "no deskpulse data in"),
        (["demo", "--no-such-option"], "No such option"),
    ],
)
def test_errors_are_one_line(tmp_path, args, fragment):
    result = deskpulse("--data-dir", str(tmp_path), *args, check=False)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("deskpulse: error:") and fragment in lines[0]


def test_sql_and_migrate_on_embedded_clickhouse(tmp_path):
    from sinks.migrate import available

    assert f"applied {len(available())} migration(s)" in deskpulse("--data-dir", str(tmp_path), "migrate").stdout
    assert "applied 0 migration(s)" in deskpulse("--data-dir", str(tmp_path), "migrate").stdout
    out = deskpulse("--data-dir", str(tmp_path), "sql", "SELECT 1 + 1 AS two", "--format", "csv").stdout
    assert out.strip().splitlines() == ["two", "2"]
    bad = deskpulse("--data-dir", str(tmp_path), "sql", "SELEC 1", check=False)
    assert bad.returncode == 1 and len(bad.stderr.strip().splitlines()) == 1


def test_a_worker_open_to_the_network_without_tokens_refuses_to_start(tmp_path, monkeypatch):
    monkeypatch.setenv("DESKPULSE_WEB_HOST", "0.0.0.0")
    result = deskpulse("--data-dir", str(tmp_path), "--broker", "kafka://127.0.0.1:1", "worker", check=False)
    assert result.returncode == 1 and len(result.stderr.strip().splitlines()) == 1
    assert "DESKPULSE_API_TOKENS" in result.stderr


def test_gaps_group_prints_a_topic_per_question_and_paraphrases_share_one(tmp_path):
    questions = tmp_path / "questions.txt"
    questions.write_text("How do I reset my password?\n\nhow do i reset my pasword\nDo you ship to Norway?\n"
                         "do you ship to norway??\n")
    out = deskpulse("gaps", "group", str(questions)).stdout.splitlines()
    assert [line.split("\t")[1] for line in out] == ["How do I reset my password?", "how do i reset my pasword",
                                                      "Do you ship to Norway?", "do you ship to norway??"]
    topics = [line.split("\t")[0] for line in out]
    assert topics[0] == topics[1] and topics[2] == topics[3] and topics[0] != topics[2]
    assert deskpulse("gaps", "group", str(questions)).stdout.splitlines() == out  # stable ids
    missing = deskpulse("gaps", "group", str(tmp_path / "nope.txt"), check=False)
    assert missing.returncode != 0 and len(missing.stderr.strip().splitlines()) == 1
