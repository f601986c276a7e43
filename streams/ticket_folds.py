"""The folds of every ticket a worker owns, by partition (pure, in memory).

Tickets and messages are both keyed by ticket_id with equal partition
counts, and range assignment gives partition i of both to one worker, so a
ticket's whole history meets here. Every change marks the ticket touched;
the worker writes the facts of touched tickets once per flush.
"""

from __future__ import annotations

from streams.ticket_fold import TicketFold
from streams.ticket_metrics import Step

Key = tuple[str, str]  # (account_id, ticket_id)


class TicketFolds:
    def __init__(self) -> None:
        self.partitions: dict[int, dict[Key, TicketFold]] = {}
        self.touched: dict[Key, int] = {}  # key -> partition

    def __len__(self) -> int:
        return sum(len(p) for p in self.partitions.values())

    def get(self, key: Key) -> tuple[int, TicketFold] | None:
        for partition, folds in self.partitions.items():
            fold = folds.get(key)
            if fold is not None:
                return partition, fold
        return None

    def _fold(self, partition: int, key: Key) -> TicketFold:
        folds = self.partitions.setdefault(partition, {})
        fold = folds.get(key)
        if fold is None:
            fold = folds[key] = TicketFold()
        return fold

    def add(self, partition: int, key: Key, step: Step) -> None:
        """A step of this ticket; a merged ticket's messages also count on its primary."""
        fold = self._fold(partition, key)
        before = fold.replies.snapshots[-1] if fold.replies.snapshots else None
        fold.add(step)
        # A step that leaves the metrics as they were (a series goes on, a
        # bot message, a redelivery) changes no fact: no new facts row.
        if step.stage or not fold.replies.snapshots or fold.replies.snapshots[-1] is not before:
            self.touched[key] = partition
        if fold.merged_into and step.kind in ("customer", "rep", "ignored"):
            found = self.get((key[0], fold.merged_into))
            if found is not None:
                found[1].add(step)
                self.touched[(key[0], fold.merged_into)] = found[0]

    def merge(self, partition: int, account_id: str, primary: str, merged: str,
              merged_steps: list[Step] | None = None) -> None:
        """`merged` is folded into `primary`: its messages so far count on the primary.

        `merged_steps` are the merged ticket's messages when its fold is not
        here (another worker owns its partition; read from ClickHouse).
        """
        target = self._fold(partition, (account_id, primary))
        found = self.get((account_id, merged))
        if found is not None:
            found[1].merged_into = primary
            self.touched[(account_id, merged)] = found[0]
            merged_steps = found[1].message_steps()
        for step in merged_steps or ():
            target.add(step)
        self.touched[(account_id, primary)] = partition

    def forget(self, partition: int) -> None:
        self.partitions.pop(partition, None)
        for key in [k for k, p in self.touched.items() if p == partition]:
            del self.touched[key]

    def take_touched(self) -> dict[Key, int]:
        touched, self.touched = self.touched, {}
        return touched
