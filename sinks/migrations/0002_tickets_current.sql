-- One row per ticket with its latest properties. The worker writes a new
-- version of a ticket's row whenever one of its events arrives;
-- ReplacingMergeTree keeps the highest `version` (read with FINAL, or
-- through the tickets_current view).

CREATE TABLE IF NOT EXISTS tickets {on_cluster}
(
    account_id    LowCardinality(String),
    ticket_id     String,
    created_at    Nullable(DateTime64(3, 'UTC')),
    status        LowCardinality(String),
    pipeline      LowCardinality(String),
    owner_id      LowCardinality(String),
    team_id       LowCardinality(String),
    priority      LowCardinality(String),
    category      LowCardinality(String),
    subject       String,
    channel       LowCardinality(String),
    contact_id    String,
    is_closed     Bool,
    closed_at     Nullable(DateTime64(3, 'UTC')),
    deleted       Bool,
    updated_at    DateTime64(3, 'UTC'),
    field_times   Map(LowCardinality(String), String),  -- property -> "time|event_id" of its winning write
    version       UInt64,
    _partition    UInt32,
    _offset       UInt64
)
ENGINE = {replicated}ReplacingMergeTree(version)
ORDER BY (account_id, ticket_id);

-- A merge event is keyed by the primary ticket, so the merged ticket's own
-- row never sees it: merged_into is joined in from the raw merge events.
-- A merged ticket no longer counts as open.
CREATE VIEW IF NOT EXISTS tickets_current {on_cluster} AS
SELECT
    t.* EXCEPT (field_times, version, _partition, _offset),
    m.primary_ticket_id AS merged_into,
    (NOT t.is_closed AND NOT t.deleted AND m.primary_ticket_id = '') AS is_open
FROM tickets AS t FINAL
LEFT JOIN
(
    SELECT account_id, merged_ticket_id AS ticket_id, argMax(ticket_id, occurred_at) AS primary_ticket_id
    FROM ticket_events
    WHERE type = 'ticket.merged'
    GROUP BY account_id, merged_ticket_id
) AS m USING (account_id, ticket_id)
SETTINGS join_use_nulls = 0;
