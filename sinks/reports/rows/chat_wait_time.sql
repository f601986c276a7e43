-- Rows behind chat-wait-time: each chat ticket first answered in the range.
SELECT
    account_id,
    deskpulse_bucket(first_response_at, {freq:String}, {tz:String}, {from:Date}) AS period,
    deskpulse_group({by:String}, owner_id, team_id) AS group,
    ticket_id, owner_id, team_id, channel, priority, pipeline, category, created_at, first_response_at, time_to_first_response_s AS chat_wait_s,
    time_to_first_response_sla_s AS chat_wait_sla_s
FROM ticket_facts_current
WHERE channel = 'chat' AND time_to_first_response_s IS NOT NULL
  AND deskpulse_in_dates(first_response_at, {from:Date}, {to:Date}, {tz:String})
  AND deskpulse_filters(account_id, channel, priority, team_id, pipeline, category, {account:String},
                        {channel:String}, {priority:String}, {team:String}, {pipeline:String}, {category:String})
