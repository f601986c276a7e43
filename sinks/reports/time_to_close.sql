-- time_to_close: average time from creation to the final close (a reopened
-- ticket reports its last close), 24/7 and in SLA hours, per period of the
-- close in the account's time zone, per rep (ticket owner) or team. Only
-- tickets closed now; merged and deleted tickets are left out.
SELECT
    account_id,
    deskpulse_period(closed_at, {freq:String}, {tz:String}) AS period,
    multiIf({by:String} = 'rep', owner_id, {by:String} = 'team', team_id, '') AS group,
    count() AS tickets,
    round(avg(time_to_close_s), 1) AS avg_time_to_close_s,
    round(avg(time_to_close_sla_s), 1) AS avg_time_to_close_sla_s,
    sum(reopen_count) AS reopens
FROM ticket_facts_current
WHERE time_to_close_s IS NOT NULL
  AND closed_at >= toDateTime64(toString({from:Date}), 3, {tz:String})
  AND closed_at < toDateTime64(toString({to:Date} + 1), 3, {tz:String})
  AND ({account:String} = '' OR account_id = {account:String})
  AND ({channel:String} = '' OR channel = {channel:String})
  AND ({priority:String} = '' OR priority = {priority:String})
  AND ({team:String} = '' OR team_id = {team:String})
  AND ({pipeline:String} = '' OR pipeline = {pipeline:String})
  AND ({category:String} = '' OR category = {category:String})
GROUP BY account_id, period, group
ORDER BY account_id, period, group
