"""The SLA alert event, written by the worker to the `sla-alerts` topic (SPEC §4)."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict


class SlaAlert(BaseModel):
    """A clock entered `state`. `alert_id` is the same for every copy of one alert (use it to de-duplicate)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["sla.alert"] = "sla.alert"
    alert_id: str  # account/ticket/clock/state
    account_id: str
    ticket_id: str
    metric: Literal["first_response", "next_response", "time_to_close"]
    state: Literal["due_soon", "overdue", "completed_late"]
    started_at: AwareDatetime  # when the clock started
    due_at: AwareDatetime | None
    threshold_at: AwareDatetime  # when the clock entered `state`
    raised_at: AwareDatetime  # when the worker raised the alert
    target_s: float
    owner_id: str
    team_id: str
    priority: str

    @property
    def latency_s(self) -> float:
        return (self.raised_at - self.threshold_at).total_seconds()


def alert_id(account_id: str, ticket_id: str, clock_key: str, state: str) -> str:
    return f"{account_id}/{ticket_id}/{clock_key}/{state}"
