"""Issue 13: what a worker accepts as a peer's announcement on the `workers` topic (anyone can write there)."""

from __future__ import annotations

import json
import time

from streams.worker.directory import EXPIRE_S, WorkerDirectory, advertised_url, parse


def announcement(url: str, at: float | None = None) -> bytes:
    return json.dumps({"url": url, "at": time.time() if at is None else at}).encode()


def test_only_well_formed_recent_announcements_of_others_are_peers():
    d = WorkerDirectory("127.0.0.1:1", "workers", "http://me:1")
    d._heard(b"a", announcement("http://a:1"))
    d._heard(b"b", announcement("http://b:1", at=time.time() - EXPIRE_S - 1))  # stale: killed without a word
    d._heard(b"c", announcement("javascript:alert(1)"))
    d._heard(b"e", b"x" * 5000)
    d._heard(b"f", b"not json")
    d._heard(d.worker_id.encode(), announcement("http://me:1"))
    assert d.peers() == ["http://a:1"]
    d._heard(b"a", None)  # its goodbye
    assert d.peers() == []
    assert parse(announcement("http://" + "x" * 300)) is None


def test_the_advertised_url():
    assert advertised_url("127.0.0.1", 6066, None) == "http://127.0.0.1:6066"
    assert advertised_url("0.0.0.0", 6066, "https://w1.example:443/") == "https://w1.example:443"
    assert advertised_url("0.0.0.0", 6066, None).endswith(":6066")
