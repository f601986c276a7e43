"""Raw HTTP for tests that look at status, headers and bytes (tests/support/live.py parses JSON)."""

from __future__ import annotations

import urllib.error
import urllib.request


def fetch(url: str, token: str | None = None) -> tuple[int, dict, bytes]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()
