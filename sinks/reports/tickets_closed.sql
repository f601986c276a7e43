-- tickets_closed: tickets whose final close falls in the period (a ticket
-- reopened and closed again counts once, at its last close), per rep (ticket
-- owner) or team, with the current ticket properties. Merged and deleted
-- tickets are left out (ticket_facts_current).
-- The rows it sums are rows/tickets_closed.sql, read here as report_rows.
SELECT
    account_id, period, group,
    count() AS tickets_closed,
    countIf(reopen_count > 0) AS reopened_tickets
FROM report_rows
GROUP BY account_id, period, group
ORDER BY account_id, period, group
