-- Ticket facts (SPEC §3-4): one row per ticket, latest version wins. The
-- worker writes a new version whenever one of the ticket's events (ticket or
-- message) arrives. Every duration twice: *_s is 24/7 (wall clock), *_sla_s
-- is working time of the ticket's SLA calendar. The arrays are the ticket's
-- stages, reply intervals and SLA clocks, the views below give one row each.

CREATE TABLE IF NOT EXISTS ticket_facts {on_cluster}
(
    account_id                    LowCardinality(String),
    ticket_id                     String,
    created_at                    Nullable(DateTime64(3, 'UTC')),
    status                        LowCardinality(String),
    pipeline                      LowCardinality(String),
    owner_id                      LowCardinality(String),
    team_id                       LowCardinality(String),
    priority                      LowCardinality(String),
    channel                       LowCardinality(String),
    category                      LowCardinality(String),
    deleted                       Bool,
    first_response_at             Nullable(DateTime64(3, 'UTC')),
    first_responder               LowCardinality(String),
    time_to_first_response_s      Nullable(Float64),
    time_to_first_response_sla_s  Nullable(Float64),
    closed_at                     Nullable(DateTime64(3, 'UTC')),  -- the final close, NULL while open
    time_to_close_s               Nullable(Float64),
    time_to_close_sla_s           Nullable(Float64),
    reopen_count                  UInt16,
    waiting_since                 Nullable(DateTime64(3, 'UTC')),  -- a customer waits for a reply since
    `stages.stage`                Array(LowCardinality(String)),
    `stages.entered_at`           Array(DateTime64(3, 'UTC')),           -- first entry
    `stages.left_at`              Array(Nullable(DateTime64(3, 'UTC'))), -- last exit, NULL: still there
    `stages.seconds`              Array(Nullable(Float64)),
    `stages.sla_seconds`          Array(Nullable(Float64)),
    `intervals.metric`            Array(LowCardinality(String)),
    `intervals.started_at`        Array(DateTime64(3, 'UTC')),
    `intervals.ended_at`          Array(DateTime64(3, 'UTC')),
    `intervals.waiting`           Array(String),
    `intervals.answered_by`       Array(String),
    `intervals.channel`           Array(LowCardinality(String)),
    `intervals.first`             Array(Bool),
    `intervals.seconds`           Array(Float64),
    `intervals.sla_seconds`       Array(Float64),
    `clocks.metric`               Array(LowCardinality(String)),
    `clocks.started_at`           Array(DateTime64(3, 'UTC')),
    `clocks.target_s`             Array(Float64),
    `clocks.due_soon_at`          Array(Nullable(DateTime64(3, 'UTC'))),
    `clocks.due_at`               Array(Nullable(DateTime64(3, 'UTC'))),
    `clocks.stopped_at`           Array(Nullable(DateTime64(3, 'UTC'))),
    computed_at                   DateTime64(3, 'UTC'),
    version                       UInt64
)
ENGINE = {replicated}ReplacingMergeTree(version)
ORDER BY (account_id, ticket_id);

-- Merges are keyed by the primary ticket, so the merged ticket's own row may
-- not know it: merged_into is joined in from the raw merge events. Merged and
-- deleted tickets are left out, the merged ticket's messages already count on
-- the primary (SPEC §3).
CREATE VIEW IF NOT EXISTS ticket_facts_current {on_cluster} AS
SELECT f.* EXCEPT (version)
FROM ticket_facts AS f FINAL
LEFT ANTI JOIN
(
    SELECT DISTINCT account_id, merged_ticket_id AS ticket_id FROM ticket_events WHERE type = 'ticket.merged'
) AS m USING (account_id, ticket_id)
WHERE NOT f.deleted;

-- One row per reply interval:
--   customer_wait:  a series of customer messages -> the next rep reply (the
--                   clock runs from the series' first message, `first` = it
--                   ended with the ticket's first response, the others are
--                   the "next response" waits),
--   customer_reply: a series of rep replies -> the customer's next message.
-- `waiting` is the customer (customer_wait) or the rep (customer_reply).
CREATE VIEW IF NOT EXISTS reply_intervals {on_cluster} AS
SELECT
    account_id, ticket_id, owner_id, team_id, priority, pipeline, category, channel AS ticket_channel,
    iv.1 AS metric, iv.2 AS started_at, iv.3 AS ended_at, iv.4 AS waiting, iv.5 AS answered_by,
    iv.6 AS channel, iv.7 AS first, iv.8 AS seconds, iv.9 AS sla_seconds
FROM ticket_facts_current
ARRAY JOIN arrayZip(`intervals.metric`, `intervals.started_at`, `intervals.ended_at`, `intervals.waiting`,
                    `intervals.answered_by`, `intervals.channel`, `intervals.first`, `intervals.seconds`,
                    `intervals.sla_seconds`) AS iv;

-- One row per SLA clock, with its state now (completed clocks keep theirs).
CREATE VIEW IF NOT EXISTS sla_clocks {on_cluster} AS
SELECT
    account_id, ticket_id, owner_id, team_id, priority, pipeline, channel,
    c.1 AS metric, c.2 AS started_at, c.3 AS target_s, c.4 AS due_soon_at, c.5 AS due_at, c.6 AS stopped_at,
    multiIf(
        stopped_at IS NOT NULL, if(due_at IS NOT NULL AND stopped_at > due_at, 'completed_late', 'completed_on_time'),
        due_at IS NOT NULL AND now64(3) >= due_at, 'overdue',
        due_soon_at IS NOT NULL AND now64(3) >= due_soon_at, 'due_soon',
        'active') AS state
FROM ticket_facts_current
ARRAY JOIN arrayZip(`clocks.metric`, `clocks.started_at`, `clocks.target_s`, `clocks.due_soon_at`,
                    `clocks.due_at`, `clocks.stopped_at`) AS c;
