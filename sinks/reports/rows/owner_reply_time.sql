-- Rows behind owner-reply-time: each customer wait answered in the range, with
-- the ticket's owner (who answered may be someone else: answered_by).
SELECT
    account_id,
    owner_id,
    ticket_id, answered_by, team_id, ticket_channel AS channel, priority, pipeline, category, started_at,
    ended_at, first, seconds AS reply_s, sla_seconds AS reply_sla_s
FROM reply_intervals
WHERE metric = 'customer_wait'
  AND deskpulse_in_dates(ended_at, {from:Date}, {to:Date}, {tz:String})
  AND deskpulse_filters(account_id, ticket_channel, priority, team_id, pipeline, category, {account:String},
                        {channel:String}, {priority:String}, {team:String}, {pipeline:String}, {category:String})
