"""JSON Schema export for producers written in other languages."""

from __future__ import annotations

import json
from pathlib import Path

from schemas.events import ANY_EVENT, EVENT_MODELS


def export_json_schemas(directory: Path) -> list[Path]:
    """Write one schema per event type plus `any-event.schema.json`; return the paths."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for event_type, model in sorted(EVENT_MODELS.items()):
        path = directory / f"{event_type}.schema.json"
        path.write_text(json.dumps(model.model_json_schema(), indent=2) + "\n")
        written.append(path)
    path = directory / "any-event.schema.json"
    path.write_text(json.dumps(ANY_EVENT.json_schema(), indent=2) + "\n")
    written.append(path)
    return written
