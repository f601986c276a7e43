-- customer_reply_time: how long customers take to answer the team: a series
-- of rep replies -> the customer's next message (reply_intervals,
-- customer_reply), per period of the customer's answer, per rep (who was
-- waiting for it) or team, 24/7 and in SLA hours.
-- The rows it sums are rows/customer_reply_time.sql, read here as report_rows.
SELECT
    account_id, period, group,
    count() AS replies,
    round(avg(customer_reply_s), 1) AS avg_customer_reply_s,
    round(avg(customer_reply_sla_s), 1) AS avg_customer_reply_sla_s
FROM report_rows
GROUP BY account_id, period, group
ORDER BY account_id, period, group
