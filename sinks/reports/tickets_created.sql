-- tickets_created: tickets created per period, in the account's time zone.
-- Definition: one count per `ticket.created` event (de-duplicated by
-- event_id at ingest) whose creation time falls in [from, to] (local dates,
-- both inclusive), bucketed by day, ISO week (Monday), month, quarter or year.
-- Filters are optional: an empty string means "any".
-- The rows it sums are rows/tickets_created.sql, read here as report_rows.
SELECT account_id, period, count() AS tickets_created
FROM report_rows
GROUP BY account_id, period
ORDER BY account_id, period
