"""Malformed records, one of each kind the worker must dead-letter."""

from __future__ import annotations

import json
import random

KINDS = ("invalid_json", "wrong_type", "unknown_type", "missing_account", "absurd_timestamp")


def corrupt(event: dict, kind: str) -> bytes:
    bad = dict(event)
    if kind == "invalid_json":
        return json.dumps(bad).encode()[:-7] + b"{oops"
    if kind == "wrong_type":
        bad["occurred_at"] = 12345 if "score" not in bad else bad["occurred_at"]
        bad["score"] = "five"
    elif kind == "unknown_type":
        bad["type"] = "ticket.teleported"
    elif kind == "missing_account":
        bad.pop("account_id")
    elif kind == "absurd_timestamp":
        bad["occurred_at"] = "1970-01-01T00:00:00+00:00"
    else:
        raise ValueError(f"unknown corruption {kind!r}")
    return json.dumps(bad).encode()


def pick(rng: random.Random) -> str:
    return rng.choice(KINDS)
