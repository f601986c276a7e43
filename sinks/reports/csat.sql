-- csat: customer satisfaction answers in the period, per survey scale (a 1-5
-- and a 1-10 answer are never averaged together): answers, satisfied answers
-- (the top two scores of their scale), the satisfied share, and the average
-- score. Filters and groups use the ticket's current properties; an answer
-- for a ticket the store does not know counts only without filters.
-- The rows it sums are rows/csat.sql, read here as report_rows.
SELECT
    account_id, period, scale, group,
    count() AS answers,
    countIf(is_satisfied) AS satisfied,
    round(satisfied / answers, 4) AS satisfied_share,
    round(avg(score), 2) AS avg_score
FROM report_rows
GROUP BY account_id, period, scale, group
ORDER BY account_id, period, scale, group
