-- Rows behind time-to-first-response: each answered ticket created in the
-- range (merged and deleted tickets left out), current properties.
SELECT
    account_id,
    deskpulse_bucket(created_at, {freq:String}, {tz:String}, {from:Date}) AS period,
    deskpulse_group({by:String}, owner_id, team_id) AS group,
    ticket_id, owner_id, team_id, channel, priority, pipeline, category, created_at, first_response_at, time_to_first_response_s, time_to_first_response_sla_s
FROM ticket_facts_current
WHERE time_to_first_response_s IS NOT NULL
  AND deskpulse_in_dates(created_at, {from:Date}, {to:Date}, {tz:String})
  AND deskpulse_filters(account_id, channel, priority, team_id, pipeline, category, {account:String},
                        {channel:String}, {priority:String}, {team:String}, {pipeline:String}, {category:String})
