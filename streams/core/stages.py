"""Time in each stage of a ticket (pure; SPEC §3).

`time_in_<stage>` runs from the first moment the ticket entered the stage to
the last moment it was in it, whatever happened in between: a ticket that
went new -> waiting -> new -> closed spent from its creation to the second
exit in "new".
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from streams.core.immutable import immutable
from streams.core.replies import Step


@immutable
class StageSpan:
    stage: str
    entered_at: datetime  # first entry
    left_at: datetime | None  # last exit; None while the ticket is still in the stage


def stage_spans(history: Iterable[Step]) -> list[StageSpan]:
    """Spans in order of first entry, from a ticket's steps sorted by event time."""
    entered: dict[str, datetime] = {}
    left: dict[str, datetime] = {}
    current: str | None = None
    for step in history:
        stage = step.stage
        if not stage or stage == current:
            continue
        if current is not None:
            left[current] = step.at
        current = stage
        entered.setdefault(stage, step.at)
    return [StageSpan(s, at, None if s == current else left.get(s)) for s, at in entered.items()]
