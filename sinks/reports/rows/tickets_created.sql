-- Rows behind tickets-created: each ticket.created event in the range, with
-- the properties it set (filters use them: as at creation).
SELECT
    account_id,
    deskpulse_bucket(occurred_at, {freq:String}, {tz:String}, {from:Date}) AS period,
    ticket_id, occurred_at AS created_at, channel, priority, team_id, owner_id, pipeline, category
FROM ticket_events
WHERE type = 'ticket.created'
  AND deskpulse_in_dates(occurred_at, {from:Date}, {to:Date}, {tz:String})
  AND deskpulse_filters(account_id, channel, priority, team_id, pipeline, category, {account:String},
                        {channel:String}, {priority:String}, {team:String}, {pipeline:String}, {category:String})
