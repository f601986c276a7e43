-- sla_status: SLA clocks that stopped in the period, per metric (first
-- response, next response, time to close), on time vs late, and the hit rate
-- (share on time), per rep (ticket owner) or team. A clock is late when it
-- stopped after its due time; a clock whose calendar never reaches the target
-- (no due time) is on time. Running clocks are not counted (see the live
-- summary for those).
SELECT
    account_id,
    deskpulse_period(stopped_at, {freq:String}, {tz:String}) AS period,
    metric,
    deskpulse_group({by:String}, owner_id, team_id) AS group,
    countIf(due_at IS NULL OR stopped_at <= due_at) AS on_time,
    countIf(due_at IS NOT NULL AND stopped_at > due_at) AS late,
    round(on_time / (on_time + late), 4) AS hit_rate
FROM ticket_facts_current
ARRAY JOIN `clocks.metric` AS metric, `clocks.due_at` AS due_at, `clocks.stopped_at` AS stopped_at
WHERE stopped_at IS NOT NULL
  AND deskpulse_in_dates(stopped_at, {from:Date}, {to:Date}, {tz:String})
  AND deskpulse_filters(account_id, channel, priority, team_id, pipeline, category, {account:String},
                        {channel:String}, {priority:String}, {team:String}, {pipeline:String}, {category:String})
GROUP BY account_id, period, metric, group
ORDER BY account_id, period, metric, group
