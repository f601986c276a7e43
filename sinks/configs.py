"""Account configurations as ClickHouse holds them: the newest stored one per account.

The compacted config topic is the live source; this is the memory that
outlives the broker (the embedded one starts empty after a restart). Only
valid configurations are ever stored (invalid ones are dead-lettered).
"""

from __future__ import annotations

import json

from pydantic import ValidationError

from schemas.events import ConfigUpdated
from sinks.clickhouse import Warehouse, as_utc

_LATEST = """
    SELECT account_id, argMax(event_id, (occurred_at, event_id)), max(occurred_at),
           argMax(config, (occurred_at, event_id))
    FROM config_events GROUP BY account_id
"""


def load_latest(warehouse: Warehouse) -> list[ConfigUpdated]:
    out = []
    for account_id, event_id, occurred_at, config in warehouse.query(_LATEST).result_rows:
        try:
            out.append(ConfigUpdated.model_validate({
                "event_id": event_id, "type": "config.updated", "account_id": account_id,
                "occurred_at": as_utc(occurred_at), "config": json.loads(config)}))
        except (ValidationError, ValueError):
            continue  # stored before validation was this strict: the topic or a newer row decides
    return out
