"""The tickets of the assigned partitions: their properties and metric folds, one way in.

`apply` is the only way events reach ticket state, whether they were just
consumed, restored from ClickHouse when a partition is assigned, or read
back from the broker for a gap (model: quix-streams recovers a store by
sending changelog records through its normal write path). So a restored
worker holds exactly what a worker that saw every event live holds
(tests/warehouse/test_restore.py compares the two).
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta

from schemas.events import Event
from sinks import facts_store, ticket_store
from sinks.clickhouse import Warehouse
from sinks.rows import ColumnBatch
from streams.core.config_store import ConfigStore
from streams.core.decode import SourceRef
from streams.core.folds import Key, TicketFold, TicketFolds
from streams.core.ticket_properties import TicketState, update_properties
from streams.worker.facts_keeper import FactsKeeper, Refused
from streams.worker.progress import ProgressStore
from streams.worker.sla_alerter import SlaAlerter
from streams.worker.state_manager import Assignment

log = logging.getLogger(__name__)
TICKET_CACHE_PER_PARTITION = 100_000
MAX_ABSENT_PER_PARTITION = 200_000
Sourced = tuple[Event, SourceRef]
DbCall = Callable[..., Awaitable]
Gap = Callable[[list[int]], Awaitable[tuple[list[Sourced], list[Sourced]]]]


async def _no_gap(partitions: list[int]) -> tuple[list[Sourced], list[Sourced]]:
    return [], []


class TicketPartitions:
    """A partition store (see state_manager): properties per ticket (an LRU per partition, reloaded from
    `tickets` on a miss) and the facts keeper's folds.

    Memory is bounded by eviction: a ticket closed longer than `evict_after` ago (and in no merge) leaves
    memory, and is not restored on assignment. A later event for it first reads its stored events back
    through the same path (`apply`), so its facts are those it would have had if it had stayed
    (tests/warehouse/test_eviction.py)."""

    def __init__(self, config: ConfigStore, alerter: SlaAlerter, warehouse: Warehouse, db_call: DbCall,
                 progress: ProgressStore, gap: Gap | None = None, evict_after: timedelta | None = None) -> None:
        self.config = config
        self.warehouse = warehouse
        self.db_call = db_call
        self.progress = progress
        self.gap = gap  # what the group committed beyond ClickHouse (set by the ingest service, which has the consumer)
        self.evict_after = evict_after  # None: every ticket stays in memory
        self.facts = FactsKeeper(config, alerter)
        self.states: dict[int, OrderedDict[Key, TicketState]] = {}
        # Keys ClickHouse held nothing for when asked, per partition: their properties, their stored events.
        # Messages often come before their ticket's creation (the topics are read at their own pace), and
        # the same unknown tickets were asked for again every flush, behind the inserts. Only this worker
        # writes its partitions' tickets, so an answer stays true until memory drops the key (LRU, evict).
        self._no_state: dict[int, set[Key]] = {}
        self._no_events: dict[int, set[Key]] = {}
        self.evicted = 0  # tickets that left memory (counters for /stats and Prometheus)
        self.reloaded = 0  # tickets read back for a late event

    def state_of(self, partition: int, key: Key) -> TicketState | None:
        return self.states.get(partition, {}).get(key)

    # --- the one path in ---------------------------------------------------------

    async def apply(self, ticket_events: Sequence[Sourced], message_events: Sequence[Sourced], *,
                    load_missing: bool = True) -> tuple[dict[Key, tuple[int, int]], list[Refused]]:
        """Ticket properties, then folds. Returns the tickets whose properties changed -> (partition, offset),
        and the events the folds refused (the caller dead-letters them).

        `load_missing`: read the stored properties of tickets not in memory (off when the events are a
        partition's whole stored history, which rebuilds them).
        """
        if load_missing:
            wanted = {(e.account_id, e.ticket_id): s.partition  # type: ignore[attr-defined]
                      for e, s in (*ticket_events, *message_events)}
            # A ticket created in this batch and unknown here is new: nothing stored to read (most keys of a
            # flush: a point query for them was most of an apply's time).
            # Known tickets are read back as before: one whose properties left the LRU, or evicted.
            created = {(e.account_id, e.ticket_id) for e, _ in ticket_events  # type: ignore[attr-defined]
                       if e.type == "ticket.created"}  # type: ignore[attr-defined]
            new = {k for k in created if self.facts.folds.get(k) is None}
            await self._load_states({k: p for k, p in wanted.items() if k not in new})
            await self._reload_evicted({k: p for k, p in wanted.items() if k not in created})
        changed: dict[Key, tuple[int, int]] = {}
        for event, source in ticket_events:
            cache = self.states.setdefault(source.partition, OrderedDict())
            key = (event.account_id, event.ticket_id)  # type: ignore[attr-defined]
            cache[key] = update_properties(cache.get(key), event)  # type: ignore[arg-type]
            cache.move_to_end(key)
            changed[key] = (source.partition, source.offset)
        for partition in {p for p, _ in changed.values()}:
            cache = self.states[partition]
            absent = self._no_state.get(partition, set())
            while len(cache) > TICKET_CACHE_PER_PARTITION:
                absent.discard(cache.popitem(last=False)[0])
        merged = await self._merged_elsewhere(ticket_events, message_events)
        refused = self.facts.apply_events((*ticket_events, *message_events), self.state_of, merged)
        return changed, refused

    async def restate(self, keys: list[tuple[Key, int | None]]) -> None:
        """Tickets whose stored events came again (a redelivery after a crash): read back if memory does not hold
        them (evicted, left out of the restore), then their facts, and their primaries', are stated again: the
        facts row of a ticket whose offsets were committed behind it may not have been written (the coalescing
        window, facts_keeper.flush_rows)."""
        own = {k: p for k, p in keys if p is not None}
        await self._load_states(own)
        await self._reload_evicted(own)
        self.facts.folds.touch_again(k for k, _ in keys)

    async def _load_states(self, wanted: dict[Key, int]) -> None:
        missing = {k: p for k, p in wanted.items()
                   if k not in self.states.get(p, {}) and k not in self._no_state.get(p, ())}
        if not missing:
            return
        loaded = await self.db_call(ticket_store.load_states, self.warehouse, set(missing))
        for key, state in loaded.items():
            self.states.setdefault(missing[key], OrderedDict())[key] = state
        _remember_absent(self._no_state, {k: p for k, p in missing.items() if k not in loaded})

    async def _reload_evicted(self, wanted: dict[Key, int]) -> None:
        """Folds of tickets not in memory that ClickHouse has (evicted, or left out of the restore): their
        stored events go through the facts keeper first, as on a restore; the new events follow."""
        if self.evict_after is None:
            return
        missing = {k: p for k, p in wanted.items()
                   if self.facts.folds.get(k) is None and k not in self._no_events.get(p, ())}
        if not missing:
            return
        stored = await self.db_call(facts_store.load_tickets, self.warehouse, list(missing))
        found = {(e.account_id, e.ticket_id) for e, _ in stored}  # type: ignore[attr-defined]
        _remember_absent(self._no_events, {k: p for k, p in missing.items() if k not in found})
        if stored:
            # Accepted once already; a ticket at its step cap refuses the same steps again, nothing new.
            self.facts.apply_events(stored, self.state_of)
            self.reloaded += len(found)

    def evict(self, now: datetime) -> int:
        """Drop the folds and properties of tickets closed before `now - evict_after` that are in no merge
        and not waiting for their facts row (touched, or in its coalescing window); returns how many left.
        Called between flushes (no await)."""
        if self.evict_after is None:
            return 0
        horizon = now - self.evict_after
        folds = self.facts.folds
        in_merges = {(k[0], f.merged_into) for fs in folds.partitions.values() for k, f in fs.items() if f.merged_into}
        in_merges.update((k[0], primary) for k, primary in folds.pending_merges.items())
        in_merges.update(self.facts.pending)  # facts rows not yet written
        gone = 0
        for partition, fs in folds.partitions.items():
            states = self.states.get(partition, {})
            for key in [k for k, f in fs.items() if _evictable(k, f, horizon, in_merges, folds)]:
                del fs[key]
                states.pop(key, None)
                self._no_state.get(partition, set()).discard(key)
                self._no_events.get(partition, set()).discard(key)
                self.facts.alerter.watched.pop(key, None)
                gone += 1
        self.evicted += gone
        return gone

    async def _merged_elsewhere(self, ticket_events: Sequence[Sourced],
                                message_events: Sequence[Sourced]) -> dict[Key, list[Sourced]]:
        """Messages of merged tickets whose folds another worker holds: read from ClickHouse, one query."""
        merges = [e for e, _ in ticket_events if e.type == "ticket.merged"]  # type: ignore[attr-defined]
        if not merges:
            return {}
        wanted = {(e.account_id, e.merged_ticket_id) for e in merges}  # type: ignore[attr-defined]
        wanted = {k for k in wanted if self.facts.folds.get(k) is None}
        if wanted:  # those the batch itself brings: keys built only for events of a wanted ticket id
            ids = {ticket for _, ticket in wanted}
            wanted -= {(e.account_id, e.ticket_id) for e, _ in (*ticket_events, *message_events)  # type: ignore[attr-defined]
                       if e.ticket_id in ids}  # type: ignore[attr-defined]
        if not wanted:
            return {}
        out: dict[Key, list[Sourced]] = {}
        for event, source in await self.db_call(facts_store.load_messages, self.warehouse, wanted):
            out.setdefault((event.account_id, event.ticket_id), []).append((event, source))  # type: ignore[attr-defined]
        return out

    # --- rows ----------------------------------------------------------------------

    def ticket_rows(self, changed: dict[Key, tuple[int, int]]) -> ColumnBatch:
        rows = ColumnBatch(ticket_store.COLUMNS)
        for key, (partition, offset) in changed.items():
            state = self.states[partition].get(key)
            if state is not None:
                rows.append(ticket_store.state_row(
                    state, ticket_store.closed_at_for(state, self.config.is_closed_stage), partition, offset))
        return rows

    def facts_rows(self, now_s: float = 0.0, coalesce_s: float = 0.0, flush: int = 0
                   ) -> tuple[ColumnBatch, dict[Key, int]]:
        return self.facts.flush_rows(self.state_of, now_s, coalesce_s, flush)

    # --- partitions ----------------------------------------------------------------

    async def assign(self, assignment: Assignment) -> None:
        await self.restore(assignment.get("tickets", []), self.progress.builder.source_id,
                           self.progress.stored(("ticket_events", "message_events")), self.gap or _no_gap)

    async def revoke(self, assignment: Assignment) -> None:
        self.forget(assignment.get("tickets", []))

    async def restore(self, partitions: list[int], source_id: str, watermarks: dict[tuple[str, int], int],
                      gap: Gap) -> None:
        """Rebuild these partitions from what ClickHouse holds, then from the broker's gap; watch open clocks."""
        if not partitions:
            return
        started = time.monotonic()
        evict_before = datetime.now(UTC) - self.evict_after if self.evict_after is not None else None
        restored = 0
        # One partition at a time: a long history's events never all exist at once (they are most of a
        # restore's peak memory, which Python keeps). A merge across partitions meets the other ticket's
        # stored messages as a merge with another worker's ticket does (tests/warehouse/test_restore.py).
        for partition in partitions:
            history = await self.db_call(facts_store.load_history, self.warehouse, source_id, [partition],
                                         watermarks, evict_before)
            restored += len(history)
            await self.apply([es for es in history if es[1].topic == "tickets"],
                             [es for es in history if es[1].topic == "messages"], load_missing=False)
            del history
        # Stored facts already hold this history; events redelivered after the last commit touch them again.
        self.facts.folds.take_touched()
        self.facts.mark_config_seen()
        gap_tickets, gap_messages = await gap(partitions)
        if gap_tickets or gap_messages:
            await self.apply(gap_tickets, gap_messages)
        open_keys = self.facts.open_keys(partitions)
        for partition, key in open_keys:
            fold = self.facts.folds.partitions[partition][key]
            state = self.state_of(partition, key)
            self.facts.watch(key, partition, self.facts.clocks(key, fold, state), state)
        log.info("restored %d events (+%d from the broker) of %d open tickets on partitions %s in %.2fs",
                 restored, len(gap_tickets) + len(gap_messages), len(open_keys), partitions,
                 time.monotonic() - started)

    def open_keys(self, partitions: Iterable[int]) -> list[Key]:
        return [k for _, k in self.facts.open_keys(partitions)]

    def forget(self, partitions: Iterable[int]) -> None:
        partitions = list(partitions)
        for partition in partitions:
            self.states.pop(partition, None)
            self._no_state.pop(partition, None)
            self._no_events.pop(partition, None)
            self.facts.folds.forget(partition)
        self.facts.forget(partitions)


def _remember_absent(absent: dict[int, set[Key]], keys: dict[Key, int]) -> None:
    for key, partition in keys.items():
        known = absent.setdefault(partition, set())
        if len(known) >= MAX_ABSENT_PER_PARTITION:
            known.clear()  # asking again is only slower
        known.add(key)


def _evictable(key: Key, fold: TicketFold, horizon: datetime, in_merges: set[Key], folds: TicketFolds) -> bool:
    """Closed, quiet since `horizon`, in no merge (neither merged nor a primary) and not touched since the
    last facts row. The restore leaves out the same tickets (facts_store._EVICTED_SQL)."""
    history = fold.replies.history
    return (fold.replies.closed and not fold.merged_into and key not in in_merges
            and key not in folds.touched and key not in folds.pending_merges
            and bool(history) and history[-1].at < horizon)
