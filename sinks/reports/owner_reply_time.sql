-- owner_reply_time: per ticket owner ('' unassigned), the average time the
-- team took to answer a customer on the owner's tickets (customer waits
-- answered in the range), 24/7 and in SLA hours.
-- The rows it sums are rows/owner_reply_time.sql, read here as report_rows.
SELECT
    account_id, owner_id,
    count() AS replies,
    round(avg(reply_s), 1) AS avg_reply_s,
    round(avg(reply_sla_s), 1) AS avg_reply_sla_s
FROM report_rows
GROUP BY account_id, owner_id
ORDER BY account_id, owner_id
