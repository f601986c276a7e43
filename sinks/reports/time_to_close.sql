-- time_to_close: average time from creation to the final close (a reopened
-- ticket reports its last close), 24/7 and in SLA hours, per period of the
-- close in the account's time zone, per rep (ticket owner) or team. Only
-- tickets closed now; merged and deleted tickets are left out.
-- The rows it sums are rows/time_to_close.sql, read here as report_rows.
SELECT
    account_id, period, group,
    count() AS tickets,
    round(avg(time_to_close_s), 1) AS avg_time_to_close_s,
    round(avg(time_to_close_sla_s), 1) AS avg_time_to_close_sla_s,
    sum(reopen_count) AS reopens
FROM report_rows
GROUP BY account_id, period, group
ORDER BY account_id, period, group
