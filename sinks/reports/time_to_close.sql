-- time_to_close: average time from creation to the final close (a reopened
-- ticket reports its last close), 24/7 and in SLA hours, per period of the
-- close in the account's time zone, per rep (ticket owner) or team. Only
-- tickets closed now; merged and deleted tickets are left out.
SELECT
    account_id,
    deskpulse_period(closed_at, {freq:String}, {tz:String}) AS period,
    deskpulse_group({by:String}, owner_id, team_id) AS group,
    count() AS tickets,
    round(avg(time_to_close_s), 1) AS avg_time_to_close_s,
    round(avg(time_to_close_sla_s), 1) AS avg_time_to_close_sla_s,
    sum(reopen_count) AS reopens
FROM ticket_facts_current
WHERE time_to_close_s IS NOT NULL
  AND deskpulse_in_dates(closed_at, {from:Date}, {to:Date}, {tz:String})
  AND deskpulse_filters(account_id, channel, priority, team_id, pipeline, category, {account:String},
                        {channel:String}, {priority:String}, {team:String}, {pipeline:String}, {category:String})
GROUP BY account_id, period, group
ORDER BY account_id, period, group
