-- customer_wait_time: average wait of a customer message series until the
-- team's reply (the clock runs from the series' first message), 24/7 and in
-- SLA hours, per period of the reply in the account's time zone, per rep (who
-- replied) or team. `next_response_*` leaves out the waits that ended with
-- the ticket's first response.
SELECT
    account_id,
    deskpulse_period(ended_at, {freq:String}, {tz:String}) AS period,
    deskpulse_group({by:String}, answered_by, team_id) AS group,
    count() AS waits,
    round(avg(seconds), 1) AS avg_wait_s,
    round(avg(sla_seconds), 1) AS avg_wait_sla_s,
    round(avgIf(seconds, NOT first), 1) AS avg_next_response_s,
    round(avgIf(sla_seconds, NOT first), 1) AS avg_next_response_sla_s
FROM reply_intervals
WHERE metric = 'customer_wait'
  AND deskpulse_in_dates(ended_at, {from:Date}, {to:Date}, {tz:String})
  AND deskpulse_filters(account_id, ticket_channel, priority, team_id, pipeline, category, {account:String},
                        {channel:String}, {priority:String}, {team:String}, {pipeline:String}, {category:String})
GROUP BY account_id, period, group
ORDER BY account_id, period, group
