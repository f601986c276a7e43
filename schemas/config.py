"""Account configuration: the document carried by `config.updated` events.

This holds what the pipeline needs today (time zone, pipelines and which of
their stages are closed). Unknown sections are kept, not rejected, so a
newer config file still applies to an older worker.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class Stage(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(min_length=1)
    label: str = ""
    closed: bool = False


class Pipeline(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(min_length=1)
    stages: list[Stage] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_stages(self) -> Pipeline:
        ids = [s.id for s in self.stages]
        if len(ids) != len(set(ids)):
            raise ValueError(f"pipeline {self.id!r} lists a stage twice")
        return self


DEFAULT_PIPELINE = Pipeline(
    id="support",
    stages=[
        Stage(id="new", label="New"),
        Stage(id="waiting_on_contact", label="Waiting on contact"),
        Stage(id="waiting_on_us", label="Waiting on us"),
        Stage(id="closed", label="Closed", closed=True),
    ],
)


class AccountConfig(BaseModel):
    model_config = ConfigDict(extra="allow")
    timezone: str = "UTC"
    pipelines: list[Pipeline] = Field(default_factory=lambda: [DEFAULT_PIPELINE])

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    def closed_stages(self) -> dict[str, frozenset[str]]:
        return {p.id: frozenset(s.id for s in p.stages if s.closed) for p in self.pipelines}
