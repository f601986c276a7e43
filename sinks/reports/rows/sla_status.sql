-- Rows behind sla-status: each SLA clock that stopped in the range.
SELECT
    account_id,
    deskpulse_bucket(stopped_at, {freq:String}, {tz:String}, {from:Date}) AS period,
    metric,
    deskpulse_group({by:String}, owner_id, team_id) AS group,
    ticket_id, owner_id, team_id, channel, priority, pipeline, category, due_at, stopped_at, due_at IS NULL OR stopped_at <= due_at AS is_on_time
FROM ticket_facts_current
ARRAY JOIN `clocks.metric` AS metric, `clocks.due_at` AS due_at, `clocks.stopped_at` AS stopped_at
WHERE stopped_at IS NOT NULL
  AND deskpulse_in_dates(stopped_at, {from:Date}, {to:Date}, {tz:String})
  AND deskpulse_filters(account_id, channel, priority, team_id, pipeline, category, {account:String},
                        {channel:String}, {priority:String}, {team:String}, {pipeline:String}, {category:String})
