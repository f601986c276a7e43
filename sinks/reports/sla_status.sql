-- sla_status: SLA clocks that stopped in the period, per metric (first
-- response, next response, time to close), on time vs late, and the hit rate
-- (share on time), per rep (ticket owner) or team. A clock is late when it
-- stopped after its due time; a clock whose calendar never reaches the target
-- (no due time) is on time. Running clocks are not counted (see the live
-- summary for those).
-- The rows it sums are rows/sla_status.sql, read here as report_rows.
SELECT
    account_id, period, metric, group,
    countIf(is_on_time) AS on_time,
    countIf(NOT is_on_time) AS late,
    round(on_time / (on_time + late), 4) AS hit_rate
FROM report_rows
GROUP BY account_id, period, metric, group
ORDER BY account_id, period, metric, group
