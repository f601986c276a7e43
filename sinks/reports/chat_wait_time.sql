-- chat_wait_time: on chat tickets, the wait from the customer's first
-- message to the first rep message (the ticket's first response), per period
-- of that response, per rep (owner) or team, 24/7 and in SLA hours.
-- The rows it sums are rows/chat_wait_time.sql, read here as report_rows.
SELECT
    account_id, period, group,
    count() AS chats,
    round(avg(chat_wait_s), 1) AS avg_chat_wait_s,
    round(avg(chat_wait_sla_s), 1) AS avg_chat_wait_sla_s,
    round(quantileExactInclusive(0.5)(chat_wait_s), 1) AS median_chat_wait_s,
    round(quantileExactInclusive(0.5)(chat_wait_sla_s), 1) AS median_chat_wait_sla_s
FROM report_rows
GROUP BY account_id, period, group
ORDER BY account_id, period, group
