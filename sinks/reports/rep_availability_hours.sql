-- rep_availability_hours: per period and rep, time available within the
-- rep's working hours and outside them.
-- The rows it sums are rows/rep_availability_hours.sql, read here as report_rows.
SELECT
    account_id, period, rep_id,
    round(sum(seconds), 1) AS available_s,
    round(sum(within_s), 1) AS in_hours_s,
    round(sum(seconds) - sum(within_s), 1) AS outside_hours_s,
    round(sum(within_s) / sum(seconds), 4) AS in_hours_share
FROM report_rows
GROUP BY account_id, period, rep_id
ORDER BY account_id, period, rep_id
