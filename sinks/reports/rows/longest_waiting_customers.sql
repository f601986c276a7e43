-- Rows behind longest-waiting-customers: each customer wait answered in the
-- range (a series of customer messages -> the team's reply), by customer.
SELECT
    account_id,
    waiting AS customer_id,
    ticket_id, answered_by, owner_id, team_id, started_at, ended_at, seconds AS wait_s, sla_seconds AS wait_sla_s
FROM reply_intervals
WHERE metric = 'customer_wait'
  AND deskpulse_in_dates(ended_at, {from:Date}, {to:Date}, {tz:String})
  AND deskpulse_filters(account_id, ticket_channel, priority, team_id, pipeline, category, {account:String},
                        {channel:String}, {priority:String}, {team:String}, {pipeline:String}, {category:String})
