-- longest_waiting_customers: the 10 customers whose waits for the team's
-- reply were longest on average over the range (ties by customer id).
-- The rows it sums are rows/longest_waiting_customers.sql, read here as report_rows.
SELECT account_id, customer_id, waits, avg_wait_s, avg_wait_sla_s
FROM
(
    SELECT
        account_id, customer_id,
        count() AS waits,
        round(avg(wait_s), 1) AS avg_wait_s,
        round(avg(wait_sla_s), 1) AS avg_wait_sla_s,
        row_number() OVER (PARTITION BY account_id ORDER BY avg(wait_s) DESC, customer_id) AS rank
    FROM report_rows
    GROUP BY account_id, customer_id
)
WHERE rank <= 10
ORDER BY account_id, rank
