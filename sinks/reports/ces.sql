-- ces: customer effort answers in the period, per survey scale: answers and
-- the average score (lower effort is better on the usual CES wording, so no
-- "satisfied" share is derived). Filters and groups use the ticket's current
-- properties; an answer for a ticket the store does not know counts only
-- without filters.
-- The rows it sums are rows/ces.sql, read here as report_rows.
SELECT
    account_id, period, scale, group,
    count() AS answers,
    round(avg(score), 2) AS avg_score
FROM report_rows
GROUP BY account_id, period, scale, group
ORDER BY account_id, period, scale, group
