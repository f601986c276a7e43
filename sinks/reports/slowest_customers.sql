-- slowest_customers: the 10 customers of each account who took longest, on
-- average, to answer the team over the range (customer_reply intervals that
-- ended in it), with how many answers that average rests on.
-- The rows it sums are rows/slowest_customers.sql, read here as report_rows.
SELECT account_id, customer_id, replies, avg_customer_reply_s
FROM
(
    SELECT
        account_id, customer_id,
        count() AS replies,
        round(avg(customer_reply_s), 1) AS avg_customer_reply_s,
        row_number() OVER (PARTITION BY account_id ORDER BY avg(customer_reply_s) DESC, customer_id) AS rank
    FROM report_rows
    GROUP BY account_id, customer_id
)
WHERE rank <= 10
ORDER BY account_id, rank
