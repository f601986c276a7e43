"""What the worker keeps for the live summary, and answering for one account.

Ticket figures come from the facts keeper's folds; the keeper remembers
which tickets were touched lately (today and yesterday in any time zone:
the last 50 hours) or are open, plus two days of calls, feedback and rep
status changes per account. For an account someone asks about it keeps a
live index (streams.core.live_index): each live ticket's dated marks, built
again when the ticket changes, so an answer reads only its windows' marks.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from streams.core.config_store import ConfigStore
from streams.core.folds import Key, TicketFold
from streams.core.live_index import AccountIndex, view_of
from streams.core.live_summary import Call, Feedback, RepStatus
from streams.core.ticket_properties import TicketState
from streams.worker.facts_keeper import FactsKeeper

KEEP = timedelta(hours=50)  # yesterday's start is at most 48 h + a DST hour ago, in any zone
LIVE_TOPICS = ("calls", "feedback", "availability")  # the topics whose events feed the logs below
LIST_PROPERTIES = ("subject", "status", "priority", "channel", "owner_id", "team_id", "pipeline", "category")


class LiveKeeper:
    """Also a partition store (see state_manager): on assignment it remembers the partitions' live tickets
    and reloads their calls, feedback and rep statuses of the last hours from ClickHouse (and, with a
    ClickHouse per worker, from the broker what another worker sank), through `add`, the path live events
    take."""

    def __init__(self, config: ConfigStore, facts: FactsKeeper, state_of: Callable[[int, Key], TicketState | None],
                 load_recent: Callable[[dict[str, list[int]], dict, datetime], Awaitable[list]] | None = None,
                 stored: Callable[[], dict] | None = None,
                 replay_gap: Callable[[dict[str, list[int]]], Awaitable[list]] | None = None,
                 check_every_s: float = 60.0):
        self.config, self.facts, self.state_of = config, facts, state_of
        self._load_recent, self._stored, self._replay_gap = load_recent, stored, replay_gap
        self.recent: dict[str, dict[Key, int]] = {}
        # partition -> account -> log: a revoked partition's entries go with it, so a partition that comes
        # back (reloaded from ClickHouse) or moves to another worker is never counted twice
        self.calls: dict[int, dict[str, list[Call]]] = {}
        self.feedback: dict[int, dict[str, list[Feedback]]] = {}
        self.reps: dict[int, dict[str, list[RepStatus]]] = {}
        self._logs_of: dict[str, dict[int, dict]] = dict(zip(LIVE_TOPICS, (self.calls, self.feedback, self.reps),
                                                             strict=True))
        # What an answer was computed from (live_answers.py): a count per account, moved on when anything of
        # it is applied, and one for everything (partitions restored or dropped, logs pruned).
        self._changes: dict[str, int] = {}
        self._all_changes = 0
        # Per account asked about: its live tickets as views with dated marks (streams.core.live_index), each
        # built again only when its ticket changed; an answer reads its windows' marks, not every history.
        self._indexes: dict[str, AccountIndex] = {}
        self._stale: dict[str, set[Key]] = {}  # per indexed account: tickets changed since its views were built
        self.repaired = 0  # views the periodic check found stale that no change had marked (should stay 0)
        self._checked, self._check_every_s = time.monotonic(), check_every_s

    def version(self, account: str) -> tuple[int, int, int]:
        """Changes whenever an answer about `account` could: its data, its configuration, the partitions held."""
        return self._all_changes, self._changes.get(account, 0), self.config.generation.get(account, 0)

    def applied(self, ticket_events, message_events, live_events) -> None:
        """A flush's events are applied (called once its apply is complete): answers about their accounts
        change, and so do the views of their tickets. A message that changes no metric leaves its ticket
        untouched (no new facts row), but it is a message the summary counts."""
        accounts = {*(e.account_id for e, _ in live_events)}
        if self._indexes:
            for event, _ in (*ticket_events, *message_events):
                account = event.account_id
                accounts.add(account)
                if account in self._indexes:
                    self._stale[account].add((account, event.ticket_id))
        else:
            accounts.update(e.account_id for e, _ in ticket_events)
            accounts.update(e.account_id for e, _ in message_events)
        self.changed(accounts)
        if time.monotonic() - self._checked >= self._check_every_s:
            self._checked = time.monotonic()
            self._check_indexes()

    def changed(self, accounts) -> None:
        """Something of these accounts was applied."""
        for account in accounts:
            self._changes[account] = self._changes.get(account, 0) + 1

    def changed_all(self) -> None:
        """Partitions came or went (called once every partition store has taken the change)."""
        self._all_changes += 1

    def touch(self, touched: dict[Key, int]) -> None:
        for key, partition in touched.items():
            self.recent.setdefault(key[0], {})[key] = partition
            if key[0] in self._indexes:
                self._stale[key[0]].add(key)

    def add(self, event, partition: int) -> None:
        """A call, feedback or rep status event of `partition` of its topic."""
        kind, account = event.type, event.account_id
        if kind == "call.ended":
            self.calls.setdefault(partition, {}).setdefault(account, []).append(
                Call(event.occurred_at, event.rep_id, event.team_id or "", event.outcome, event.duration_s))
        elif kind == "feedback.submitted":
            self.feedback.setdefault(partition, {}).setdefault(account, []).append(
                Feedback(event.occurred_at, event.ticket_id, event.survey, event.score, event.scale))
        elif kind == "rep.status_changed":
            self.reps.setdefault(partition, {}).setdefault(account, []).append(
                RepStatus(event.occurred_at, event.rep_id, event.team_id or "", event.status))

    def prune(self, now: datetime) -> None:
        before = self._size()
        horizon = now - KEEP
        for by_partition in (self.calls, self.feedback):
            for logs in by_partition.values():
                for account, items in logs.items():
                    logs[account] = [i for i in items if i.at >= horizon]
        for reps in self.reps.values():
            for account, changes in reps.items():
                latest: dict[str, RepStatus] = {}
                for c in sorted(changes, key=lambda c: c.at):
                    if c.at < horizon:
                        latest[c.rep_id] = c  # the status a rep was in when the window opened
                reps[account] = [*latest.values(), *(c for c in changes if c.at >= horizon)]
        self._drop_unless(lambda fold: _still_live(fold, horizon))
        # Accounts left with nothing here leave these maps (any account id may come in an event). Answers kept
        # from before this are not given again: an account's count starts over when it comes back.
        held = {a for a, keys in self.recent.items() if keys} | {
            a for by_partition in (self.calls, self.feedback, self.reps) for logs in by_partition.values()
            for a, items in logs.items() if items}
        for by_partition in (self.calls, self.feedback, self.reps):
            for logs in by_partition.values():
                for account in [a for a in logs if a not in held]:
                    del logs[account]
        for account in [a for a in self.recent if a not in held]:
            del self.recent[account]
        for account in [a for a in self._indexes if a not in held]:
            del self._indexes[account], self._stale[account]
        gone = [a for a in self._changes if a not in held]
        for account in gone:
            del self._changes[account]
        if gone or self._size() != before:  # older than any window: no figure changes, but the options may
            self._all_changes += 1

    def evicted(self) -> None:
        """Folds left memory (tickets.evict): their tickets leave the live set and the indexes now, not at the
        next prune (the answers skip a ticket without a fold, as before it was indexed)."""
        self._drop_unless(lambda fold: True)

    def _drop_unless(self, keep: Callable[[TicketFold], bool]) -> None:
        for keys in self.recent.values():
            for key in list(keys):
                found = self.facts.folds.partitions.get(keys[key], {}).get(key)
                if found is None or not keep(found):
                    del keys[key]
                    self._drop_view(key)

    def _size(self) -> int:
        logs = sum(len(items) for by_partition in (self.calls, self.feedback, self.reps)
                   for partition_logs in by_partition.values() for items in partition_logs.values())
        return logs + sum(len(keys) for keys in self.recent.values())

    async def assign(self, assignment: dict[str, list[int]]) -> None:
        now = datetime.now(UTC)
        tickets = assignment.get("tickets", [])
        if tickets:
            self.restored(tickets, now)
        live = {t: assignment[t] for t in LIVE_TOPICS if assignment.get(t)}
        if live and self._load_recent is not None and self._stored is not None:
            for partition, event in await self._load_recent(live, self._stored(), now - KEEP):
                self.add(event, partition)
        if live and self._replay_gap is not None:  # sunk by another worker into a ClickHouse of its own
            for event, partition in await self._replay_gap(live):
                self.add(event, partition)  # older ones go at the next prune; a rep's status before it stays

    async def revoke(self, assignment: dict[str, list[int]]) -> None:
        for partition in assignment.get("tickets", []):
            self.forget(partition)
        for topic, logs in self._logs_of.items():
            for partition in assignment.get(topic, []):
                logs.pop(partition, None)

    def restored(self, partitions: list[int], now: datetime) -> None:
        """Remember the live tickets of partitions just rebuilt from ClickHouse."""
        horizon = now - KEEP
        self.touch({key: p for p in partitions for key, fold in self.facts.folds.partitions.get(p, {}).items()
                    if _still_live(fold, horizon)})

    def forget(self, partition: int) -> None:
        for keys in self.recent.values():
            for key in [k for k, p in keys.items() if p == partition]:
                del keys[key]
                self._drop_view(key)

    def partial(self, account: str, filters: dict[str, str], now: datetime) -> dict:
        """This worker's share of the account's summary (streams.core.live_summary.partial's answer)."""
        return self._index(account).partial(_of(self.calls, account), _of(self.feedback, account),
                                            _of(self.reps, account), self.timezone(account), now, filters)

    def _index(self, account: str) -> AccountIndex:
        """The account's index with a current view of every live ticket: built in full on the first question,
        then only the views of tickets changed since (`touch`, `applied`) are built again."""
        index = self._indexes.get(account)
        if index is None:
            if account not in self.recent:
                return AccountIndex()  # nothing live: any account id may be asked about, none is kept
            index = self._indexes[account] = AccountIndex()
            stale = set(self.recent.get(account, ()))
        else:
            stale = self._stale[account]
        self._stale[account] = set()
        live = self.recent.get(account, {})
        for key in stale:
            self._refresh(index, key, live.get(key))
        return index

    def _refresh(self, index: AccountIndex, key: Key, partition: int | None) -> None:
        """Make the ticket's view current, or drop it: the ticket is not live here (no partition, no fold)."""
        fold = self.facts.folds.partitions.get(partition, {}).get(key) if partition is not None else None
        if fold is None:
            index.drop(key)
            return
        state = self.state_of(partition, key)  # type: ignore[arg-type]
        # A fold's metrics are a new ReplyState when they change, but a step that changes none keeps the
        # object (its log grows): the number of steps says that. States are immutable.
        stamp = (fold.replies, state), (len(fold.replies.history), fold.merged_into,
                                        self.config.generation.get(key[0], 0))
        if not index.current(key, stamp):
            index.put(view_of(key, stamp, fold, state, self.facts.clocks(key, fold, state)))

    def _check_indexes(self) -> None:
        """Every view against its ticket now, at the end of an apply (nothing is half applied). A change that
        marked nothing would otherwise stay out of the answers: finding one is a bug, counted in `repaired`."""
        for account, index in self._indexes.items():
            stale, live = self._stale[account], self.recent.get(account, {})
            for key in [*index.views, *(k for k in live if k not in index.views)]:
                if key in stale:
                    continue  # marked: the next answer builds it again
                before = index.views.get(key)
                self._refresh(index, key, live.get(key))
                if index.views.get(key) is not before:
                    self.repaired += 1

    def index_stats(self) -> dict[str, int]:
        return {"accounts": len(self._indexes), "tickets": sum(len(i.views) for i in self._indexes.values()),
                "marks": sum(i.marks() for i in self._indexes.values()), "repaired": self.repaired}

    def _drop_view(self, key: Key) -> None:
        index = self._indexes.get(key[0])
        if index is not None:
            index.drop(key)

    def timezone(self, account: str) -> str:
        return self.config.get(account).timezone

    def details(self, account: str, ticket_ids: set[str]) -> dict[str, dict]:
        """What a ticket list shows of the tickets this worker holds."""
        out = {}
        for key, partition in self.recent.get(account, {}).items():
            if key[1] in ticket_ids:
                state = self.state_of(partition, key)
                out[key[1]] = {p: state.get(p) for p in LIST_PROPERTIES} if state else {}
        return out

    def open_tickets(self) -> dict[str, int]:
        """Open tickets per account now (for the Prometheus gauge)."""
        counts = {}
        for account, keys in self.recent.items():
            n = 0
            for key, partition in keys.items():
                fold = self.facts.folds.partitions.get(partition, {}).get(key)
                if fold is None or fold.merged_into or fold.replies.closed or fold.replies.created_at is None:
                    continue
                state = self.state_of(partition, key)
                if state is None or not state.deleted:
                    n += 1
            counts[account] = n
        return counts

    def collect(self):
        from prometheus_client.core import GaugeMetricFamily

        gauge = GaugeMetricFamily("deskpulse_live_open_tickets", "Open tickets now", labels=["account_id"])
        for account, n in sorted(self.open_tickets().items()):
            gauge.add_metric([account], n)
        yield gauge


def _of(by_partition: dict[int, dict[str, list]], account: str) -> list:
    """One account's entries over every partition held."""
    return [item for logs in by_partition.values() for item in logs.get(account, ())]


def _still_live(fold: TicketFold, horizon: datetime) -> bool:
    """Open, or active since `horizon`: a ticket the live figures may need."""
    history = fold.replies.history
    return (not fold.replies.closed and not fold.merged_into) or bool(history and history[-1].at >= horizon)
