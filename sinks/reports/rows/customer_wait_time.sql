-- Rows behind customer-wait-time: each customer wait answered in the range
-- (a series of customer messages -> the team's reply).
SELECT
    account_id,
    deskpulse_bucket(ended_at, {freq:String}, {tz:String}, {from:Date}) AS period,
    deskpulse_group({by:String}, answered_by, team_id) AS group,
    ticket_id, answered_by, owner_id, team_id, ticket_channel AS channel, priority, pipeline, category,
    started_at, ended_at, first, seconds AS wait_s, sla_seconds AS wait_sla_s
FROM reply_intervals
WHERE metric = 'customer_wait'
  AND deskpulse_in_dates(ended_at, {from:Date}, {to:Date}, {tz:String})
  AND deskpulse_filters(account_id, ticket_channel, priority, team_id, pipeline, category, {account:String},
                        {channel:String}, {priority:String}, {team:String}, {pipeline:String}, {category:String})
