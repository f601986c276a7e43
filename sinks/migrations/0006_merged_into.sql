-- tickets_current.merged_into named the merged ticket itself: in 0002 the
-- alias `merged_ticket_id AS ticket_id` was also what argMax(ticket_id, ...)
-- read (ClickHouse aliases are visible in the whole SELECT). The merge's
-- primary is read under its own name here.
CREATE OR REPLACE VIEW tickets_current {on_cluster} AS
SELECT
    t.* EXCEPT (field_times, version, _partition, _offset),
    m.primary_ticket_id AS merged_into,
    (NOT t.is_closed AND NOT t.deleted AND m.primary_ticket_id = '') AS is_open
FROM tickets AS t FINAL
LEFT JOIN
(
    SELECT account_id, merged_ticket_id AS ticket_id, argMax(primary_id, occurred_at) AS primary_ticket_id
    FROM (SELECT account_id, merged_ticket_id, ticket_id AS primary_id, occurred_at
          FROM ticket_events WHERE type = 'ticket.merged')
    GROUP BY account_id, merged_ticket_id
) AS m USING (account_id, ticket_id)
SETTINGS join_use_nulls = 0;
