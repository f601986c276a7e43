"""The AI agent's conversations in the worker: agent events -> folds -> `agent_conversation_facts` rows.

A thin shell around streams/core/agent_conversations.py. Folds are a
bounded cache (least recently touched out first), not partition state: a
conversation not in memory is folded again from its stored events, read in
one query per flush, before the flush's own events are added. So nothing
is restored on assignment, memory stays bounded, and a late event for a
conversation evicted long ago gives the same facts as if it had stayed.
(With a ClickHouse per worker, a conversation whose earlier events another
worker stored is folded from what this store holds: see docs/agent.md.)
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime

from schemas.events import Event
from sinks import conversation_store
from sinks.clickhouse import Warehouse
from sinks.conversation_store import Key
from sinks.rows import ColumnBatch
from streams.core.agent_conversations import AgentEventStep, ConversationFold
from streams.core.decode import SourceRef
from streams.worker.facts_keeper import Refused
from streams.worker.state_manager import Assignment

MAX_CONVERSATIONS = 200_000  # folds kept in memory (a few hundred bytes each)
MAX_CONVERSATION_EVENTS = 5_000  # more is not a conversation: the rest are dead-lettered


def step_of(event: Event) -> AgentEventStep:
    e = event.__dict__
    return AgentEventStep(event.occurred_at, event.event_id, e["type"], channel=e.get("channel") or "",
                          ticket_id=e.get("ticket_id") or "", to_rep_id=e.get("to_rep_id") or "",
                          to_team_id=e.get("to_team_id") or "", helpful=e.get("helpful"))


class Conversations:
    def __init__(self, warehouse: Warehouse, db_call: Callable[..., Awaitable],
                 capacity: int = MAX_CONVERSATIONS) -> None:
        self.warehouse, self.db_call, self.capacity = warehouse, db_call, capacity
        self.folds: OrderedDict[Key, ConversationFold] = OrderedDict()
        self._version = 0
        self.reloaded = 0  # conversations folded again from ClickHouse (the store test checks evictions happen)

    async def rows(self, events: Iterable[tuple[Event, SourceRef]]) -> tuple[ColumnBatch, list[Refused]]:
        """The facts rows of every conversation these events touch, and the events refused."""
        events = list(events)
        keys = {(e.account_id, e.conversation_id) for e, _ in events}  # type: ignore[attr-defined]
        missing = [k for k in keys if k not in self.folds]
        if missing:
            stored = await self.db_call(conversation_store.load_steps, self.warehouse, missing)
            self.reloaded += len(missing)
            for key in missing:
                fold = self.folds[key] = ConversationFold()
                for step in stored.get(key, ()):
                    fold.add(step)
        refused = []
        for event, source in events:
            fold = self.folds[(event.account_id, event.conversation_id)]  # type: ignore[attr-defined]
            if event.event_id not in fold.seen and len(fold.seen) >= MAX_CONVERSATION_EVENTS:
                refused.append(Refused(event, source, "conversation_too_long",
                                       f"conversation {event.conversation_id} holds {MAX_CONVERSATION_EVENTS} "  # type: ignore[attr-defined]
                                       "events: no more are counted (the record is kept in dead_letters)"))
                continue
            fold.add(step_of(event))
        batch = ColumnBatch(conversation_store.COLUMNS, nullable=conversation_store.NULLABLE)
        now = datetime.now(UTC)
        self._version = version = max(time.time_ns(), self._version + 1)
        for key in keys:
            self.folds.move_to_end(key)
            facts = self.folds[key].facts()
            if facts is not None:
                batch.append(conversation_store.conversation_row(key, facts, now, version))
        while len(self.folds) > self.capacity:
            self.folds.popitem(last=False)
        return batch, refused

    # A partition store: a moved partition's conversations are read back on their next event.
    async def assign(self, assignment: Assignment) -> None:
        return None

    async def revoke(self, assignment: Assignment) -> None:
        if assignment.get("agent"):
            self.folds.clear()  # another worker may change them now; ours would be stale
