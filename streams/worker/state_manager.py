"""One place that hands partition assignments and revocations to every store that keeps partition state.

Model: quix-streams' `state/manager.py`. Stores register once, in dependency
order; an assignment runs through them in that order (progress before the
ticket history that reads up to it, tickets before the alerter that watches
their clocks), a revocation in reverse (the alerter stops first).
"""

from __future__ import annotations

import logging
from typing import Protocol

log = logging.getLogger(__name__)
Assignment = dict[str, list[int]]  # logical topic -> partitions


class PartitionStore(Protocol):
    async def assign(self, assignment: Assignment) -> None:
        """Load this store's state of the newly assigned partitions."""

    async def revoke(self, assignment: Assignment) -> None:
        """Drop this store's state of revoked partitions (everything is committed before this runs)."""


class StateManager:
    def __init__(self) -> None:
        self.stores: list[PartitionStore] = []

    def register(self, store: PartitionStore) -> None:
        self.stores.append(store)

    async def assign(self, assignment: Assignment) -> None:
        for store in self.stores:
            await store.assign(assignment)

    async def revoke(self, assignment: Assignment) -> None:
        for store in reversed(self.stores):
            await store.revoke(assignment)
