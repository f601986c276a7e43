-- Rows behind slowest-customers: each customer answer in the range.
SELECT
    account_id,
    answered_by AS customer_id,
    ticket_id, waiting, owner_id, team_id, started_at, ended_at, seconds AS customer_reply_s,
    sla_seconds AS customer_reply_sla_s
FROM reply_intervals
WHERE metric = 'customer_reply'
  AND deskpulse_in_dates(ended_at, {from:Date}, {to:Date}, {tz:String})
  AND deskpulse_filters(account_id, ticket_channel, priority, team_id, pipeline, category, {account:String},
                        {channel:String}, {priority:String}, {team:String}, {pipeline:String}, {category:String})
