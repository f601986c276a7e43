-- support_volume: tickets created per period, per rep (the ticket's owner
-- now) or team: how the load spreads over the team over time. Merged and
-- deleted tickets are left out (ticket_facts_current).
SELECT
    account_id,
    deskpulse_period(created_at, {freq:String}, {tz:String}) AS period,
    deskpulse_group({by:String}, owner_id, team_id) AS group,
    count() AS tickets
FROM ticket_facts_current
WHERE created_at IS NOT NULL
  AND deskpulse_in_dates(created_at, {from:Date}, {to:Date}, {tz:String})
  AND deskpulse_filters(account_id, channel, priority, team_id, pipeline, category, {account:String},
                        {channel:String}, {priority:String}, {team:String}, {pipeline:String}, {category:String})
GROUP BY account_id, period, group
ORDER BY account_id, period, group
