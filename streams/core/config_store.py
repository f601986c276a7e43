"""Latest configuration per account, as applied from the config topic."""

from __future__ import annotations

from pydantic import ValidationError

from schemas.config import DEFAULT_PIPELINE, AccountConfig
from schemas.events import ConfigUpdated
from streams.core.business_time import WorkCalendar
from streams.core.calendars import sla_calendar_for
from streams.core.sla_clocks import Targets

_DEFAULT_CLOSED = frozenset(s.id for s in DEFAULT_PIPELINE.stages if s.closed)
# An account on defaults: one frozen instance, not a model built per ticket's facts.
_DEFAULT_CONFIG = AccountConfig()


class ConfigStore:
    def __init__(self) -> None:
        self._configs: dict[str, tuple[tuple, AccountConfig]] = {}
        self._closed: dict[str, dict[str, frozenset[str]]] = {}  # derived once per config, read per ticket
        self.rejected: list[tuple[str, str]] = []  # (account_id, reason)
        # (account, team) -> SLA calendar: built once per config, so its day memo is reused
        self._calendars: dict[tuple[str, str], WorkCalendar] = {}
        self.generation: dict[str, int] = {}  # account -> number of configurations applied
        # id(SlaTarget) -> its Targets, asked for once per ticket's facts: bounded by the configurations' targets,
        # and cleared when one is applied, so an id is never that of a target no longer in force.
        self._targets: dict[int, Targets] = {}

    def apply(self, event: ConfigUpdated) -> bool:
        """Keep the newest valid document per account; return whether it was taken."""
        stamp = (event.occurred_at, event.event_id)
        current = self._configs.get(event.account_id)
        if current is not None and current[0] >= stamp:
            return False
        try:
            config = AccountConfig.model_validate(event.config)
        except ValidationError as exc:
            self.rejected.append((event.account_id, str(exc).splitlines()[0]))
            return False
        self._configs[event.account_id] = (stamp, config)
        self._closed[event.account_id] = config.closed_stages()
        self.generation[event.account_id] = self.generation.get(event.account_id, 0) + 1
        for key in [k for k in self._calendars if k[0] == event.account_id]:
            del self._calendars[key]
        self._targets.clear()
        return True

    def applied(self, account_id: str) -> str | None:
        """The event_id of the configuration in force, None while on defaults."""
        found = self._configs.get(account_id)
        return found[0][1] if found else None

    def get(self, account_id: str) -> AccountConfig:
        found = self._configs.get(account_id)
        return found[1] if found else _DEFAULT_CONFIG

    def is_closed_stage(self, account_id: str, pipeline: str, status: str) -> bool:
        closed = self._closed.get(account_id)
        if closed is None:
            return status in _DEFAULT_CLOSED
        # A pipeline missing from the config falls back to the default's names.
        return status in closed.get(pipeline, _DEFAULT_CLOSED)

    def sla_calendar(self, account_id: str, team_id: str) -> WorkCalendar:
        """The calendar SLA clocks and "SLA hours" durations of this team's tickets run on."""
        key = (account_id, team_id)
        calendar = self._calendars.get(key)
        if calendar is None:
            calendar = self._calendars[key] = sla_calendar_for(self.get(account_id), team_id or None)
        return calendar

    def sla_targets(self, account_id: str, properties: dict[str, str]) -> Targets | None:
        """The SLA targets that apply to a ticket with these properties (None: no SLA)."""
        policy = self.get(account_id).sla
        if policy is None:
            return None
        target = policy.target_for(properties)
        if target is None:
            return None
        found = self._targets.get(id(target))
        if found is None:
            found = self._targets[id(target)] = Targets(_seconds(target.first_response),
                                                        _seconds(target.next_response),
                                                        _seconds(target.time_to_close), _seconds(target.due_soon))
        return found


def _seconds(minutes: float | None) -> float | None:
    return None if minutes is None else minutes * 60.0
