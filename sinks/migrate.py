"""Versioned DDL: apply each `migrations/NNNN_name.sql` once, record it.

Statements use IF NOT EXISTS, so a migration interrupted half-way is safe to
run again. `{on_cluster}` and `{replicated}` are filled from configuration
(never from user input) so the same files build a cluster schema.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

from sinks.clickhouse import Warehouse

_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str

    def statements(self, cluster: str | None) -> list[str]:
        on_cluster = f"ON CLUSTER `{cluster}`" if cluster else ""
        replicated = "Replicated" if cluster else ""
        body = self.sql.replace("{on_cluster}", on_cluster).replace("{replicated}", replicated)
        body = "\n".join(line for line in body.splitlines() if not line.lstrip().startswith("--"))
        return [s.strip() for s in body.split(";") if s.strip()]


def available() -> list[Migration]:
    found = []
    for entry in resources.files("sinks.migrations").iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append(Migration(int(match[1]), match[2], entry.read_text()))
    return sorted(found, key=lambda m: m.version)


def migrate(warehouse: Warehouse, cluster: str | None = None) -> list[Migration]:
    """Apply pending migrations; return the ones applied now."""
    on_cluster = f"ON CLUSTER `{cluster}`" if cluster else ""
    warehouse.command(
        f"CREATE TABLE IF NOT EXISTS schema_migrations {on_cluster} "
        "(version UInt32, name String, applied_at DateTime64(3, 'UTC') DEFAULT now64(3)) "
        f"ENGINE = {'Replicated' if cluster else ''}MergeTree ORDER BY version"
    )
    done = {row[0] for row in warehouse.query("SELECT version FROM schema_migrations").result_rows}
    applied = []
    for migration in available():
        if migration.version in done:
            continue
        for statement in migration.statements(cluster):
            warehouse.command(statement)
        warehouse.insert_columns("schema_migrations", ["version", "name"], [[migration.version], [migration.name]])
        applied.append(migration)
    return applied
