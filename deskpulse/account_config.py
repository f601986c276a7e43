"""Reading account configuration files and publishing them to the config topic."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import yaml
from pydantic import ValidationError

from schemas.config import AccountConfig, explain_errors


class ConfigFileError(ValueError):
    """Every problem in a file, each as 'path.to.field: message'."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source, self.problems = source, problems
        more = f" (+{len(problems) - 1} more: run `deskpulse config check`)" if len(problems) > 1 else ""
        super().__init__(f"{source}: {problems[0]}{more}")


def load(text: str, source: str = "config") -> AccountConfig:
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigFileError(source, [f"not valid YAML: {str(exc).splitlines()[0]}"]) from None
    if not isinstance(document, dict):
        raise ConfigFileError(source, ["the file must hold a mapping (account_id, timezone, calendars, ...)"])
    try:
        config = AccountConfig.model_validate(document)
    except ValidationError as exc:
        raise ConfigFileError(source, explain_errors(exc)) from None
    if not config.account_id:
        raise ConfigFileError(source, ["account_id: required in a configuration file"])
    return config


def load_file(path: Path) -> AccountConfig:
    try:
        text = path.read_text()
    except OSError as exc:
        raise ConfigFileError(str(path), [exc.strerror or str(exc)]) from None
    return load(text, str(path))


def example(account_id: str) -> AccountConfig:
    """The shipped example configuration of a simulated account."""
    text = (resources.files("deskpulse") / "examples" / f"{account_id}.yaml").read_text()
    return load(text, f"examples/{account_id}.yaml")


def config_event(config: AccountConfig, at: datetime | None = None) -> dict:
    return {
        "event_id": f"cfg-{uuid.uuid4().hex}",
        "type": "config.updated",
        "account_id": config.account_id,
        "occurred_at": (at or datetime.now(UTC)).isoformat(timespec="milliseconds"),
        "schema_version": 1,
        "config": json.loads(config.model_dump_json(exclude_none=True)),
    }
