-- max_reps_available: per local day, the most reps available at the same
-- moment (a rep who turns available as another turns away counts once: ends
-- before starts at the same instant).
-- The rows it sums are rows/max_reps_available.sql, read here as report_rows.
SELECT account_id, day, max(running) AS max_reps_available
FROM
(
    SELECT account_id, day,
           sum(delta) OVER (PARTITION BY account_id, day ORDER BY at, delta ROWS UNBOUNDED PRECEDING) AS running
    FROM
    (
        SELECT account_id, day, arrayJoin([(started_at, 1), (ended_at, -1)]) AS change, change.1 AS at,
               change.2 AS delta
        FROM report_rows
    )
)
GROUP BY account_id, day
ORDER BY account_id, day
