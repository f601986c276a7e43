"""Runtime configuration: CLI flags override DESKPULSE_* environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlparse


class SettingsError(ValueError):
    pass


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not an integer") from None


def _tokens(text: str) -> dict[str, str]:
    """'acme=secret1,globex=secret2' -> {account: token}."""
    tokens = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        account, sep, token = part.partition("=")
        if not sep or not account or not token:
            raise SettingsError("DESKPULSE_API_TOKENS must look like account=token,account=token")
        tokens[account.strip()] = token.strip()
    return tokens


@dataclass(frozen=True)
class Settings:
    data_dir: Path = Path(".deskpulse")
    broker: str | None = None  # kafka://host:port; None = start the embedded broker
    clickhouse: str | None = None  # chdb:///dir or http://...; None = embedded under data_dir
    clickhouse_cluster: str | None = None
    topic_prefix: str = ""
    partitions: int = 4
    web_host: str = "127.0.0.1"
    web_port: int = 6066
    group_id: str = "deskpulse-worker"
    batch_max_rows: int = 20_000
    batch_max_seconds: float = 0.25  # also bounds how stale the live summary is
    dedupe_window: int = 200_000  # remembered event ids per partition
    webhook_url: str | None = None  # SLA alerts are also POSTed here
    peers: tuple[str, ...] = ()  # the other workers' web URLs: the live API answers for the whole account
    api_tokens: dict = field(default_factory=dict)  # account -> token; empty: the API is open (localhost demo)
    alert_max_age_s: int = 3600  # an alert whose threshold passed longer ago is not raised (history backfills)
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_env(cls) -> Settings:
        env = os.environ.get
        return cls(
            data_dir=Path(env("DESKPULSE_DATA_DIR", ".deskpulse")),
            broker=env("DESKPULSE_BROKER") or None,
            clickhouse=env("DESKPULSE_CLICKHOUSE") or None,
            clickhouse_cluster=env("DESKPULSE_CLICKHOUSE_CLUSTER") or None,
            topic_prefix=env("DESKPULSE_TOPIC_PREFIX", ""),
            partitions=_env_int("DESKPULSE_PARTITIONS", 4),
            web_host=env("DESKPULSE_WEB_HOST", "127.0.0.1"),
            web_port=_env_int("DESKPULSE_WEB_PORT", 6066),
            group_id=env("DESKPULSE_GROUP_ID", "deskpulse-worker"),
            batch_max_rows=_env_int("DESKPULSE_BATCH_MAX_ROWS", 20_000),
            batch_max_seconds=float(env("DESKPULSE_BATCH_MAX_SECONDS", "0.25")),
            dedupe_window=_env_int("DESKPULSE_DEDUPE_WINDOW", 200_000),
            webhook_url=env("DESKPULSE_WEBHOOK_URL") or None,
            alert_max_age_s=_env_int("DESKPULSE_ALERT_MAX_AGE_S", 3600),
            api_tokens=_tokens(env("DESKPULSE_API_TOKENS", "")),
            peers=tuple(u.strip().rstrip("/") for u in env("DESKPULSE_PEERS", "").split(",") if u.strip()),
            extra={
                "session_timeout_ms": _env_int("DESKPULSE_SESSION_TIMEOUT_MS", 10_000),
                "rebalance_timeout_ms": _env_int("DESKPULSE_REBALANCE_TIMEOUT_MS", 10_000),
            },
        )

    def with_overrides(self, **overrides) -> Settings:
        settings = replace(self, **{k: v for k, v in overrides.items() if v is not None})
        settings.validate()
        return settings

    def validate(self) -> None:
        if self.broker is not None:
            parsed = urlparse(self.broker)
            if parsed.scheme != "kafka" or not parsed.hostname or not parsed.port:
                raise SettingsError(f"broker {self.broker!r} must look like kafka://host:port")
        if self.clickhouse is not None and urlparse(self.clickhouse).scheme not in ("chdb", "http", "https"):
            raise SettingsError(f"clickhouse {self.clickhouse!r} must be chdb:///dir or http://user:pass@host:8123/db")
        if self.webhook_url is not None and urlparse(self.webhook_url).scheme not in ("http", "https"):
            raise SettingsError(f"webhook {self.webhook_url!r} must be an http(s) URL")
        if self.partitions < 1:
            raise SettingsError("partitions must be at least 1")
        if self.batch_max_rows < 1 or self.batch_max_seconds <= 0:
            raise SettingsError("batch limits must be positive")

    @property
    def clickhouse_dsn(self) -> str:
        return self.clickhouse or f"chdb://{(self.data_dir / 'clickhouse').resolve()}"

    @property
    def bootstrap(self) -> str:
        if self.broker is None:
            raise SettingsError("no broker configured")
        parsed = urlparse(self.broker)
        return f"{parsed.hostname}:{parsed.port}"

    def topic(self, name: str) -> str:
        return f"{self.topic_prefix}{name}"
