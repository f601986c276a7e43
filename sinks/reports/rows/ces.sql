-- Rows behind ces: each ces answer in the range, with its ticket's current properties.
SELECT
    account_id,
    deskpulse_bucket(occurred_at, {freq:String}, {tz:String}, {from:Date}) AS period,
    scale,
    deskpulse_group({by:String}, owner_id, team_id) AS group,
    ticket_id, owner_id, team_id, ticket_channel AS channel, priority, pipeline, category,
    occurred_at AS answered_at, score
FROM feedback_with_ticket
WHERE survey = 'ces'
  AND deskpulse_in_dates(occurred_at, {from:Date}, {to:Date}, {tz:String})
  AND deskpulse_filters(account_id, ticket_channel, priority, team_id, pipeline, category, {account:String},
                        {channel:String}, {priority:String}, {team:String}, {pipeline:String}, {category:String})
