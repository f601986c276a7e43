-- tickets_closed: tickets whose final close falls in the period (a ticket
-- reopened and closed again counts once, at its last close), per rep (ticket
-- owner) or team, with the current ticket properties. Merged and deleted
-- tickets are left out (ticket_facts_current).
SELECT
    account_id,
    deskpulse_period(closed_at, {freq:String}, {tz:String}) AS period,
    deskpulse_group({by:String}, owner_id, team_id) AS group,
    count() AS tickets_closed,
    countIf(reopen_count > 0) AS reopened_tickets
FROM ticket_facts_current
WHERE closed_at IS NOT NULL
  AND deskpulse_in_dates(closed_at, {from:Date}, {to:Date}, {tz:String})
  AND deskpulse_filters(account_id, channel, priority, team_id, pipeline, category, {account:String},
                        {channel:String}, {priority:String}, {team:String}, {pipeline:String}, {category:String})
GROUP BY account_id, period, group
ORDER BY account_id, period, group
