-- customer_wait_time: average wait of a customer message series until the
-- team's reply (the clock runs from the series' first message), 24/7 and in
-- SLA hours, per period of the reply in the account's time zone, per rep (who
-- replied) or team. `next_response_*` leaves out the waits that ended with
-- the ticket's first response.
-- The rows it sums are rows/customer_wait_time.sql, read here as report_rows.
SELECT
    account_id, period, group,
    count() AS waits,
    round(avg(wait_s), 1) AS avg_wait_s,
    round(avg(wait_sla_s), 1) AS avg_wait_sla_s,
    round(avgIf(wait_s, NOT first), 1) AS avg_next_response_s,
    round(avgIf(wait_sla_s, NOT first), 1) AS avg_next_response_sla_s
FROM report_rows
GROUP BY account_id, period, group
ORDER BY account_id, period, group
