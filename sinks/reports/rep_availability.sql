-- rep_availability: per period and rep, the time spent in each status
-- (available, busy, away, offline), from the rep's status changes; a status
-- lasts until the rep's next change.
-- The rows it sums are rows/rep_availability.sql, read here as report_rows.
SELECT
    account_id, period, rep_id, status,
    round(sum(seconds), 1) AS time_in_status_s,
    round(sum(seconds) / sum(sum(seconds)) OVER (PARTITION BY account_id, period, rep_id), 4) AS share
FROM report_rows
GROUP BY account_id, period, rep_id, status
ORDER BY account_id, period, rep_id, status
