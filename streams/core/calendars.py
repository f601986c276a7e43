"""Which business-hour calendar applies to a ticket, as a `WorkCalendar` (pure).

The config models name calendars; the arithmetic lives in business_time.
This joins the two, so the models import nothing of the core.
"""

from __future__ import annotations

from schemas.config import AccountConfig
from streams.core.business_time import WorkCalendar


def named_calendar(config: AccountConfig, name: str | None) -> WorkCalendar:
    if name is None:
        return WorkCalendar.twenty_four_seven()
    calendar = config.calendars[name]
    return WorkCalendar(calendar.timezone or config.timezone, calendar.weekly_minutes(), frozenset(calendar.holidays))


def calendar_for(config: AccountConfig, team_id: str | None) -> WorkCalendar:
    """The business hours of a ticket of this team: its team's, else the policy's, else the default; else 24/7."""
    return named_calendar(config, config.calendar_name_for(team_id))


def sla_calendar_for(config: AccountConfig, team_id: str | None) -> WorkCalendar:
    """The calendar SLA clocks and "SLA hours" durations of this team's tickets run on."""
    return named_calendar(config, config.sla_calendar_name_for(team_id))
