"""Ticket facts in the worker: events -> folds -> `ticket_facts` rows and watched SLA clocks.

The shell around the pure core (ticket_fold, ticket_facts, sla_clock): it
turns events and stored history into steps, applies them in event-time
order, and for every ticket touched builds its facts row and hands its
clocks to the alerter.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime
from operator import itemgetter
from typing import NamedTuple

from schemas.events import Event
from sinks.facts_store import COLUMNS, NULLABLE, facts_row
from sinks.rows import ColumnBatch
from streams.core.business_time import RememberedCalendar, WorkCalendar
from streams.core.config_store import ConfigStore
from streams.core.decode import SourceRef
from streams.core.facts import TicketFacts, ticket_facts
from streams.core.folds import MAX_TICKET_STEPS, Key, TicketFold, TicketFolds, message_step, ticket_step
from streams.core.replies import RANK, Step
from streams.core.sla_clocks import Clock, Targets, ticket_clocks
from streams.core.ticket_properties import TicketState
from streams.worker.sla_alerter import SlaAlerter

StateOf = Callable[[int, Key], TicketState | None]
# Tickets whose SLA-calendar answers are remembered between their facts (RememberedCalendar): the most recently
# touched. About 4 KB each (25 answers for a ticket of a dozen messages): 20 MB at most. A ticket no longer among
# them computes its next facts in full.
MAX_REMEMBERED = 5_000
# Where a merge, a deletion or a change of other properties goes among the steps of its instant: with the
# messages (the rank Step.order gives a kind it does not know).
NO_STEP_RANK = RANK["rep"]
_first = itemgetter(0)


class Refused(NamedTuple):
    """A valid event the ticket state will not take: not stored, dead-lettered by the caller."""

    event: Event
    source: SourceRef
    reason_code: str
    reason: str


def _too_long(event: Event, source: SourceRef) -> Refused:
    return Refused(event, source, "ticket_too_long",
                   f"ticket {event.ticket_id} holds {MAX_TICKET_STEPS} messages and status changes: "  # type: ignore[attr-defined]
                   "no more are counted (the record is kept in dead_letters)")


class FactsKeeper:
    def __init__(self, config: ConfigStore, alerter: SlaAlerter) -> None:
        self.config = config
        self.alerter = alerter
        self.folds = TicketFolds()
        self._version = 0
        self._generations: dict[str, int] = {}
        self._remembered: OrderedDict[Key, RememberedCalendar] = OrderedDict()
        # Touched tickets whose facts row waits for its coalescing window (flush_rows), oldest first:
        # key -> (partition, when it is due, the flush that first deferred it).
        self.pending: dict[Key, tuple[int, float, int]] = {}

    def _closed(self, account_id: str, pipeline: str, status: str) -> bool:
        return self.config.is_closed_stage(account_id, pipeline, status)

    def apply_events(self, events: Iterable[tuple[Event, SourceRef]], state_of: StateOf,
                     merged_messages: Mapping[Key, list[tuple[Event, SourceRef]]] | None = None
                     ) -> list[Refused]:
        """Apply ticket and message events in event-time order: fresh from the broker or restored from ClickHouse.

        `merged_messages`: the stored messages of merged tickets whose folds are not here (another
        worker owns them), read by the caller in one query. Returns the events refused: merges that
        would close a merge cycle, steps of a ticket that holds MAX_TICKET_STEPS already.
        """
        refused: list[Refused] = []
        for _, event, source, step in sorted(self._steps(events, state_of), key=_first):
            e: object = event
            key = (event.account_id, e.ticket_id)  # type: ignore[attr-defined]
            partition = source.partition
            if step is not None:
                if not self.folds.add(partition, key, step):
                    refused.append(_too_long(event, source))
            elif e.type == "ticket.merged":  # type: ignore[attr-defined]
                merged = e.merged_ticket_id  # type: ignore[attr-defined]
                steps = None
                if self.folds.get((event.account_id, merged)) is None and merged_messages:
                    steps = [_message_step(m) for m, _ in merged_messages.get((event.account_id, merged), ())]
                if not self.folds.merge(partition, event.account_id, key[1], merged, steps):
                    refused.append(Refused(event, source, "merge_cycle",
                                           f"merging {merged} into {key[1]} would close a merge cycle "
                                           "(the earlier merge stands)"))
            else:
                self.folds.touched[key] = partition  # e.g. deleted, or another property changed
        return refused

    def _steps(self, events: Iterable[tuple[Event, SourceRef]], state_of: StateOf
               ) -> Iterator[tuple[tuple, Event, SourceRef, Step | None]]:
        """Each event with its step (None: a merge, or a change that is not one) and its place in the fold.

        The place is the steps' own order (time, then cause before effect, then event id), so a batch's steps
        of one instant are added in order. By time and event id alone, a status change stamped with the reply
        that caused it came after it half the time and re-folded the ticket (66,000 of `make bench`'s 306,000
        steps). Merges keep their order among themselves: the first of two merges that would close a cycle
        wins.
        """
        for event, source in events:
            e: object = event
            kind = e.type  # type: ignore[attr-defined]
            step = None
            if kind == "message.created":
                step = _message_step(e)
            elif kind != "ticket.merged":
                status = None
                if kind == "ticket.created" or "status" in getattr(e, "changed_fields", ()):
                    status = e.status  # type: ignore[attr-defined]
                state = state_of(source.partition, (event.account_id, e.ticket_id))  # type: ignore[attr-defined]
                # the event's own pipeline, else the ticket's as the flush leaves it
                pipeline = getattr(e, "pipeline", None) or (state.get("pipeline") if state else "support")
                step = ticket_step(kind, event.occurred_at, event.event_id, status,
                                   bool(status) and self._closed(event.account_id, pipeline, status))
            if step is None:
                yield (event.occurred_at, NO_STEP_RANK, event.event_id), event, source, None
            else:
                yield step.order, event, source, step

    def _sla(self, key: Key, state: TicketState | None) -> tuple[Targets | None, WorkCalendar]:
        account_id = key[0]
        team = state.get("team_id") if state else ""
        targets = None
        if state is not None and not state.deleted:
            targets = self.config.sla_targets(account_id, {
                "priority": state.get("priority"), "team": team, "channel": state.get("channel"),
                "pipeline": state.get("pipeline")})
        return targets, self.config.sla_calendar(account_id, team)

    def facts(self, key: Key, fold: TicketFold, state: TicketState | None) -> TicketFacts:
        targets, calendar = self._sla(key, state)
        if calendar.always:  # 24/7: nothing worth remembering
            return ticket_facts(fold, targets, calendar)
        remembered = self._remembered.pop(key, None)
        if remembered is None or remembered.calendar is not calendar:
            remembered = RememberedCalendar(calendar)
        self._remembered[key] = remembered
        if len(self._remembered) > MAX_REMEMBERED:
            self._remembered.popitem(last=False)
        facts = ticket_facts(fold, targets, remembered)  # type: ignore[arg-type]
        remembered.settle()
        return facts

    def clocks(self, key: Key, fold: TicketFold, state: TicketState | None) -> list[Clock]:
        """Only the SLA clocks (what the live summary needs; cheaper than all the facts)."""
        if fold.merged_into:
            return []
        return ticket_clocks(fold.replies, *self._sla(key, state))

    def flush_rows(self, state_of: StateOf, now_s: float = 0.0, coalesce_s: float = 0.0, flush: int = 0
                   ) -> tuple[ColumnBatch, dict[Key, int]]:
        """Facts rows of the tickets touched since the last flush; their clocks go to the alerter. Returns the
        rows and every ticket touched (the live keeper's and the alerter's, whether stated or not).

        `coalesce_s` > 0 (a backlog): a ticket's row is written `coalesce_s` after the flush that first touched
        it since its last row (at `now_s`, monotonic seconds), with whatever touched it meanwhile: under a
        backlog a ticket is touched by about three flushes in a row (`make bench`: 105,020 rows for 35,458
        tickets) and each row was its whole facts again. Meanwhile the alerter holds none of its clocks
        (`SlaAlerter.hold`: computing them at every flush cost as much as the rows saved), so no alert acts on
        clocks its new events changed; they come with its row. 0: every waiting row is written now.
        """
        rows = ColumnBatch(COLUMNS, nullable=NULLABLE)
        now = datetime.now(UTC)
        self._touch_reconfigured()
        touched = self.folds.take_touched()
        pending = self.pending
        if coalesce_s > 0 or pending:
            due_at = now_s + coalesce_s
            for key, partition in touched.items():
                waiting = pending.get(key)
                pending[key] = (partition, due_at, flush) if waiting is None else (partition, *waiting[1:])
            stating: dict[Key, int] = {}
            for key, (partition, due, _) in pending.items():  # oldest first: due times only grow
                if coalesce_s > 0 and due > now_s:
                    break
                stating[key] = partition
            for key in stating:
                del pending[key]
        else:
            stating = touched
        version = max(time.time_ns(), self._version + 1)
        self._version = version
        partitions = self.folds.partitions
        for key, partition in stating.items():
            fold = partitions.get(partition, {}).get(key)
            if fold is None:
                continue
            state = state_of(partition, key)
            facts = self.facts(key, fold, state)
            rows.append(facts_row(key[0], key[1], state, facts, now, version))
            self.watch(key, partition, facts.clocks, state)
        if pending:
            hold = self.alerter.hold
            for key in touched:
                if key in pending:
                    hold(key)
        if stating is not touched:
            touched = {**touched, **stating}
        return rows, touched

    def due(self, now_s: float) -> bool:
        """Whether a waiting facts row's window has passed."""
        for _, due, _ in self.pending.values():
            return due <= now_s
        return False

    def oldest_pending(self) -> int | None:
        """The flush that first deferred the oldest waiting row (None: none waits)."""
        for _, _, flush in self.pending.values():
            return flush
        return None

    def forget(self, partitions: Iterable[int]) -> None:
        gone = set(partitions)
        for key in [k for k, (p, _, _) in self.pending.items() if p in gone]:
            del self.pending[key]

    def reconfigured(self) -> bool:
        """A configuration was applied since the facts were last stated (they must be re-stated)."""
        return any(self._generations.get(a) != g for a, g in self.config.generation.items())

    def _touch_reconfigured(self) -> None:
        """A new configuration re-targets every open ticket of its account and re-states every
        ticket's facts (SLA hours depend on the calendars)."""
        changed = {a for a, g in self.config.generation.items() if self._generations.get(a) != g}
        if not changed:
            return
        self._generations.update({a: self.config.generation[a] for a in changed})
        for partition, folds in self.folds.partitions.items():
            for key in folds:
                if key[0] in changed:
                    self.folds.touched[key] = partition

    def mark_config_seen(self) -> None:
        """Facts restored from ClickHouse were computed under the configurations now in force."""
        self._generations.update(self.config.generation)

    def watch(self, key: Key, partition: int, clocks: list[Clock], state: TicketState | None) -> None:
        self.alerter.watch(key, partition, clocks, state.get("owner_id") if state else "",
                           state.get("team_id") if state else "", state.get("priority") if state else "")

    def open_keys(self, partitions: Iterable[int]) -> list[tuple[int, Key]]:
        """Restored tickets that may have running clocks (not closed)."""
        found = []
        for p in partitions:
            for key, fold in self.folds.partitions.get(p, {}).items():
                if not fold.replies.closed and not fold.merged_into:
                    found.append((p, key))
        return found


def _message_step(e):
    return message_step(e.direction, e.sender_type, e.occurred_at, e.event_id, e.sender_id, e.channel)
