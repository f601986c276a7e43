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


class _Loader(yaml.SafeLoader):
    """Dates stay text, so the schema reports a bad one (2026-02-30) with its field path and line like any other
    problem, instead of the YAML parser stopping at it with no file, line or field."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _lines(node: yaml.Node, path: tuple = ()) -> dict[tuple, int]:
    """Field path -> 1-based line, for every node of the document."""
    out = {path: node.start_mark.line + 1}
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            out.update(_lines(value, (*path, key.value)))
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            out.update(_lines(item, (*path, i)))
    return out


def _line_of(lines: dict[tuple, int], loc: tuple) -> int | None:
    """The line of the field, or of its nearest parent the file has (a missing field's place is its parent)."""
    loc = tuple(str(p) if not isinstance(p, int) else p for p in loc)
    for n in range(len(loc), -1, -1):
        if loc[:n] in lines:
            return lines[loc[:n]]
    return None


def load(text: str, source: str = "config") -> AccountConfig:
    """Every problem of the file at once, each as 'line N: path.to.field: message'."""
    try:
        loader = _Loader(text)  # parsed once: the nodes give the lines, the same nodes the document
        try:
            node = loader.get_single_node()
            document = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigFileError(source, [f"{where}not valid YAML: {problem}"]) from None
    if not isinstance(document, dict) or node is None:
        raise ConfigFileError(source, ["the file must hold a mapping (account_id, timezone, calendars, ...)"])
    lines = _lines(node)
    try:
        config = AccountConfig.model_validate(document)
    except ValidationError as exc:
        problems = []
        for err, text_ in zip(exc.errors(include_url=False), explain_errors(exc), strict=True):
            line = _line_of(lines, tuple(err["loc"]))
            problems.append(f"line {line}: {text_}" if line else text_)
        raise ConfigFileError(source, problems) from None
    if not config.account_id:
        raise ConfigFileError(source, ["line 1: account_id: required in a configuration file"])
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
