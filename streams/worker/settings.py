"""Runtime configuration: `DESKPULSE_*` environment variables, overridden by CLI flags.

pydantic-settings reads and types the environment (a bad value is one clear
error naming the variable); the CLI passes its flags to `with_overrides`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated
from urllib.parse import urlparse

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class SettingsError(ValueError):
    pass


def _tokens(text: str) -> dict[str, str]:
    """'acme=secret1,globex=secret2' -> {account: token}."""
    tokens = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        account, sep, token = part.partition("=")
        if not sep or not account or not token:
            raise ValueError("must look like account=token,account=token")
        tokens[account.strip()] = token.strip()
    return tokens


MIN_EVICT_AFTER_S = 50 * 3600
# At most this many records per sink batch. With a batch being applied and one batch's worth waiting for its commit
# (flights.py), at most 3x this many records are uncommitted at any time, fewer than the ticket properties or
# conversations an LRU holds (tickets.TICKET_CACHE_PER_PARTITION, conversations.MAX_CONVERSATIONS). So a key that
# left an LRU has no row in flight, and the point reads of the next apply may run beside the inserts
# (ingest.IngestService.read_call); tests/unit/test_settings.py checks the margin.
MAX_BATCH_ROWS = 30_000


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DESKPULSE_", frozen=True, extra="ignore")

    data_dir: Path = Path(".deskpulse")
    broker: str | None = None  # kafka://host:port; None = start the embedded broker
    clickhouse: str | None = None  # chdb:///dir or http://...; None = embedded under data_dir
    clickhouse_cluster: str | None = None
    topic_prefix: str = ""
    partitions: int = 4
    web_host: str = "127.0.0.1"
    web_port: int = 6066
    group_id: str = "deskpulse-worker"
    # The most MAX_BATCH_ROWS allows: under a backlog a batch fills before its flush can start (batch_due), and a
    # larger one states each touched ticket's facts fewer times (docs/performance.md, "A tenth look").
    batch_max_rows: int = 30_000
    # Also bounds how stale the live summary is. Commits are coalesced behind (flights.py), so a short
    # window costs applies (about 20 ms each at 1,000 events/s), not ClickHouse inserts.
    batch_max_seconds: float = 0.1
    # A small commit (ClickHouse inserts, alerts of touched tickets, offsets) begins at least this long after the
    # one before it began (flights.py): fewer, larger inserts. A backlog, a revoke or a stop does not wait. 0: back
    # to back. Bounds how far ClickHouse may trail the live answer in a quiet stream.
    commit_pace_s: float = Field(default=1.0, ge=0, le=10)
    # Under a backlog (a batch of at least half batch_max_rows) a touched ticket's facts row is written this long
    # after the flush that first touched it, once for every flush meanwhile (facts_keeper.flush_rows): ClickHouse's
    # ticket_facts and the alerts of such a ticket trail by as much, and offsets are committed behind the rows
    # that wait. 0: a row per flush, as before. A quiet stream writes every row at its flush.
    facts_coalesce_s: float = Field(default=5.0, ge=0, le=60)
    dedupe_window: int = 200_000  # remembered event ids per partition
    # A live API answer is given again while nothing of its account changed, up to this old (live_answers.py);
    # 0: every request computes its own.
    live_answer_max_age_s: float = Field(default=1.0, ge=0, le=60)
    # How often the live index's views are checked against their tickets (live_keeper.py; 0: after every apply).
    # A stale view found is a bug, counted in /stats (live_index.repaired) and mended.
    live_index_check_s: float = Field(default=60.0, ge=0, le=3600)
    # A closed ticket leaves memory this long after its last event (0: never); a late event reads it back from
    # ClickHouse. At least 50 h: the live summary's today and yesterday, in any time zone, read tickets in memory.
    evict_closed_after_s: int = 72 * 3600
    webhook_url: str | None = None  # SLA alerts are also POSTed here
    # the other workers' web URLs: the live API answers for the whole account
    peers: Annotated[tuple[str, ...], NoDecode] = ()  # besides those found on the `workers` topic
    advertised_url: str | None = None  # how other workers reach this one (default http://web_host:web_port)
    # account -> token; empty: the API is open (localhost demo)
    api_tokens: Annotated[dict[str, str], NoDecode] = Field(default_factory=dict)
    # the token /sql needs when tokens are on (it reads every account's rows); none: /sql is off with tokens
    admin_token: str | None = None
    allow_open_api: bool = False  # serve the API without tokens on a non-loopback address (refused otherwise)
    alert_max_age_s: int = 3600  # an alert whose threshold passed longer ago is not raised (history backfills)
    session_timeout_ms: int = 10_000
    rebalance_timeout_ms: int = 10_000
    heartbeat_interval_ms: int = 1_000

    @field_validator("broker", "clickhouse", "clickhouse_cluster", "webhook_url", "admin_token", "advertised_url",
                     mode="before")
    @classmethod
    def _empty_is_none(cls, value):
        return None if value == "" else value

    @field_validator("peers", mode="before")
    @classmethod
    def _peers(cls, value):
        if isinstance(value, str):
            return tuple(u.strip().rstrip("/") for u in value.split(",") if u.strip())
        return value

    @field_validator("api_tokens", mode="before")
    @classmethod
    def _api_tokens(cls, value):
        return _tokens(value) if isinstance(value, str) else value

    @classmethod
    def from_env(cls) -> Settings:
        try:
            return cls()
        except ValidationError as exc:
            err = exc.errors(include_url=False)[0]
            name = "DESKPULSE_" + str(err["loc"][0]).upper() if err["loc"] else "DESKPULSE_*"
            raise SettingsError(f"{name}: {err['msg'].removeprefix('Value error, ')}") from None

    def with_overrides(self, **overrides) -> Settings:
        try:  # validated like the environment (a flag's text becomes a Path, an int ...); the arguments win
            settings = type(self)(**{**self.model_dump(), **{k: v for k, v in overrides.items() if v is not None}})
        except ValidationError as exc:
            err = exc.errors(include_url=False)[0]
            raise SettingsError(f"{'.'.join(map(str, err['loc']))}: {err['msg']}") from None
        settings.validate()
        return settings

    def validate(self) -> None:  # type: ignore[override]  # pydantic's classmethod of that name is deprecated
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
        if self.batch_max_rows > MAX_BATCH_ROWS:
            raise SettingsError(f"batch_max_rows must be at most {MAX_BATCH_ROWS:,}")
        if 0 < self.evict_closed_after_s < MIN_EVICT_AFTER_S:
            raise SettingsError(f"evict_closed_after_s must be 0 (never) or at least {MIN_EVICT_AFTER_S} (50 h: "
                                "the live summary reads yesterday's tickets from memory)")

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
