"""Test layout mirrors the code's layers; each folder is a marker (`pytest -m unit` needs no server).

- unit: pure logic and hypothesis properties; no broker, no ClickHouse, no subprocess tools.
- warehouse: real ClickHouse (chDB in-process), no broker.
- integration: real broker (Tansu) + real ClickHouse + worker processes.
- e2e: what a person or an operator's tools see: the page in headless Chromium, alert rules in promtool.
"""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["tests.fixtures.warehouse", "tests.fixtures.broker", "tests.fixtures.workers"]
LAYERS = ("unit", "warehouse", "integration", "e2e")


def pytest_collection_modifyitems(items):
    for item in items:
        layer = Path(str(item.fspath)).parent.name
        if layer in LAYERS:
            item.add_marker(getattr(pytest.mark, layer))
