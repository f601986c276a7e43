-- owner_reply_count: per ticket owner ('' unassigned), over tickets created in the
-- range: tickets, the rep replies they got in total (bots and internal notes
-- are not replies; a merged ticket's replies count on its primary), and the
-- average replies per ticket.
-- The rows it sums are rows/owner_reply_count.sql, read here as report_rows.
SELECT
    account_id, owner_id,
    count() AS tickets,
    sum(replies) AS replies,
    round(replies / tickets, 2) AS avg_replies_per_ticket
FROM report_rows
GROUP BY account_id, owner_id
ORDER BY account_id, owner_id
