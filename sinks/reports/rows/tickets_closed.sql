-- Rows behind tickets-closed: each ticket whose final close is in the range.
SELECT
    account_id,
    deskpulse_bucket(closed_at, {freq:String}, {tz:String}, {from:Date}) AS period,
    deskpulse_group({by:String}, owner_id, team_id) AS group,
    ticket_id, owner_id, team_id, channel, priority, pipeline, category, created_at, closed_at, reopen_count
FROM ticket_facts_current
WHERE closed_at IS NOT NULL
  AND deskpulse_in_dates(closed_at, {from:Date}, {to:Date}, {tz:String})
  AND deskpulse_filters(account_id, channel, priority, team_id, pipeline, category, {account:String},
                        {channel:String}, {priority:String}, {team:String}, {pipeline:String}, {category:String})
