"""Prometheus metrics of the worker (served on /metrics)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

EVENTS_CONSUMED = Counter("deskpulse_events_consumed_total", "Valid events consumed", ["topic", "type"])
DEAD_LETTERED = Counter("deskpulse_dead_lettered_total", "Records sent to the dead-letter topic", ["topic", "reason"])
DUPLICATES = Counter("deskpulse_duplicates_dropped_total", "Events dropped as duplicate event_id", ["topic"])
ALREADY_STORED = Counter("deskpulse_redelivered_skipped_total", "Redelivered records already in ClickHouse")
ROWS_WRITTEN = Counter("deskpulse_rows_written_total", "Rows inserted into ClickHouse", ["table"])
SINK_BATCH_ROWS = Histogram("deskpulse_sink_batch_rows", "Rows per sink flush",
                            buckets=(10, 100, 1_000, 5_000, 10_000, 20_000, 50_000, 100_000))
SINK_FLUSH_SECONDS = Histogram("deskpulse_sink_flush_seconds", "Time to write one batch to ClickHouse and commit",
                               buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
SINK_ERRORS = Counter("deskpulse_sink_errors_total", "Failed ClickHouse writes (retried)")
CONSUMER_LAG = Gauge("deskpulse_consumer_lag", "Records behind the end of the partition", ["topic", "partition"])
SLA_ALERTS = Counter("deskpulse_sla_alerts_total", "SLA alerts raised", ["metric", "state"])
SLA_ALERTS_STALE = Counter("deskpulse_sla_alerts_stale_total",
                           "SLA transitions older than the alert max age when first seen (not alerted)")
SLA_ALERT_LATENCY = Histogram("deskpulse_sla_alert_latency_seconds", "From an SLA threshold to its alert",
                              buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
DEAD_LETTER_SEND_FAILURES = Counter("deskpulse_dead_letter_send_failures_total",
                                   "Dead letters the broker refused (they stay in the dead_letters table)")
SLA_ALERT_SEND_FAILURES = Counter("deskpulse_sla_alert_send_failures_total",
                                  "SLA alerts not sent after bounded retries (tried again on the next evaluation)")
ROWS_REJECTED = Counter("deskpulse_rows_rejected_total",
                        "Rows ClickHouse refused deterministically (kept in dead_letters)", ["table"])
EVENT_LOOP_LAG = Gauge("deskpulse_event_loop_lag_seconds", "How late the worker's event loop ran a 0.5 s timer")
WEBHOOK_FAILURES = Counter("deskpulse_webhook_failures_total", "Failed webhook POSTs (retried)")
FACTS_WRITTEN = Counter("deskpulse_ticket_facts_written_total", "Ticket facts rows written")
FACTS_WAITING = Gauge("deskpulse_ticket_facts_waiting", "Touched tickets whose facts row waits for its coalescing "
                      "window (a backlog); offsets are committed behind them")
EVENTS_PRODUCED = Counter("deskpulse_events_produced_total", "Records the worker produced", ["topic", "type"])
TICKETS_RESIDENT = Gauge("deskpulse_tickets_resident", "Tickets whose folds the worker holds in memory")
TICKETS_EVICTED = Counter("deskpulse_tickets_evicted_total", "Closed tickets that left memory")
TICKETS_RELOADED = Counter("deskpulse_tickets_reloaded_total",
                           "Evicted tickets read back from ClickHouse for a late event")
LIVE_ANSWERS = Counter("deskpulse_live_answers_total",
                       "Live API answers: computed, shared with an earlier request (nothing had changed), or held "
                       "(an answer of 20 ms or more given again for ten times its computation time)",
                       ["result"])
