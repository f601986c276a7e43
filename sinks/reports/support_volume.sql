-- support_volume: tickets created per period, per rep (the ticket's owner
-- now) or team: how the load spreads over the team over time. Merged and
-- deleted tickets are left out (ticket_facts_current).
-- The rows it sums are rows/support_volume.sql, read here as report_rows.
SELECT account_id, period, group, count() AS tickets
FROM report_rows
GROUP BY account_id, period, group
ORDER BY account_id, period, group
