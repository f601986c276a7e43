"""A bounded memory of recently seen event ids, per partition.

Producers retry, so the same `event_id` can arrive twice; both copies share a
key and therefore a partition, so a per-partition window suffices. The window
is refilled from ClickHouse when a partition is assigned (see ingest), so it
survives restarts.

It keeps a 64-bit hash of each id (Python's keyed SipHash), not the id: a
worker has one window per topic and partition, and ids as strings in an
ordered dict cost about 300 bytes each (a quarter of a worker's memory on a
long history); a hash in a set and a queue about 80. Two different ids of one
window share a hash with a chance of about window / 2^64 per event (1 in 10^14
at 200,000), which would drop the second as a duplicate (counted as one).
"""

from __future__ import annotations

from collections import deque


class SeenIds:
    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError("capacity must be positive")
        self.capacity = capacity
        self._hashes: set[int] = set()
        self._order: deque[int] = deque()  # oldest first: the one to forget when full

    def __len__(self) -> int:
        return len(self._order)

    def __contains__(self, event_id: str) -> bool:
        return hash(event_id) in self._hashes

    def add(self, event_id: str) -> bool:
        """Remember `event_id`; return False if it was already remembered."""
        key = hash(event_id)
        if key in self._hashes:
            return False
        self._hashes.add(key)
        self._order.append(key)
        if len(self._order) > self.capacity:
            self._hashes.discard(self._order.popleft())
        return True
