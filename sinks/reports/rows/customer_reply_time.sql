-- Rows behind customer-reply-time: each customer answer in the range
-- (a series of rep replies -> the customer's next message).
SELECT
    account_id,
    deskpulse_bucket(ended_at, {freq:String}, {tz:String}, {from:Date}) AS period,
    deskpulse_group({by:String}, waiting, team_id) AS group,
    ticket_id, answered_by AS customer_id, waiting, owner_id, team_id, ticket_channel AS channel, priority,
    pipeline, category, started_at, ended_at, seconds AS customer_reply_s, sla_seconds AS customer_reply_sla_s
FROM reply_intervals
WHERE metric = 'customer_reply'
  AND deskpulse_in_dates(ended_at, {from:Date}, {to:Date}, {tz:String})
  AND deskpulse_filters(account_id, ticket_channel, priority, team_id, pipeline, category, {account:String},
                        {channel:String}, {priority:String}, {team:String}, {pipeline:String}, {category:String})
