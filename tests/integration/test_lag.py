"""The lag counts every record not yet committed, to the real end of each partition (issue 10, finding 10).

Records fetched but waiting in a batch are not done; and Tansu answers the
end-offset query with its last batch's base offset + 1, which made /stats
read 0 while a third of the records were uncommitted.
"""

from __future__ import annotations

from tests.support.events import created
from tests.support.pipeline import encoded, produce
from tests.support.waiting import wait_until


def test_lag_counts_fetched_but_uncommitted_records_to_the_real_end(stack, start_worker):
    # a batch that waits 8 s before it is flushed and committed
    worker = start_worker(stack, DESKPULSE_BATCH_MAX_SECONDS=8)
    wait_until(lambda: worker.stats()["ready"], 60, "a ready worker")
    events = [created(f"lag{i}") for i in range(300)]
    produce(stack, encoded(events))  # one producer flush: a few large batches on the broker
    wait_until(lambda: sum(worker.stats()["lag"].values()) == 300, 6, "the lag to show every uncommitted record")
    worker.wait_processed(300, timeout=60)
    wait_until(lambda: sum(worker.stats()["lag"].values()) == 0, 10, "the lag to drop once committed")
