"""A bounded memory of recently seen event ids, per partition.

Producers retry, so the same `event_id` can arrive twice; both copies share a
key and therefore a partition, so a per-partition window suffices. The window
is refilled from ClickHouse when a partition is assigned (see ingest), so it
survives restarts.
"""

from __future__ import annotations

from collections import OrderedDict


class SeenIds:
    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError("capacity must be positive")
        self.capacity = capacity
        self._ids: OrderedDict[str, None] = OrderedDict()

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, event_id: str) -> bool:
        return event_id in self._ids

    def add(self, event_id: str) -> bool:
        """Remember `event_id`; return False if it was already remembered."""
        if event_id in self._ids:
            return False
        self._ids[event_id] = None
        if len(self._ids) > self.capacity:
            self._ids.popitem(last=False)
        return True
