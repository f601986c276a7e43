-- customer_reply_time: how long customers take to answer the team: a series
-- of rep replies -> the customer's next message (reply_intervals,
-- customer_reply), per period of the customer's answer, per rep (who was
-- waiting for it) or team, 24/7 and in SLA hours.
SELECT
    account_id,
    deskpulse_period(ended_at, {freq:String}, {tz:String}) AS period,
    deskpulse_group({by:String}, waiting, team_id) AS group,
    count() AS replies,
    round(avg(seconds), 1) AS avg_customer_reply_s,
    round(avg(sla_seconds), 1) AS avg_customer_reply_sla_s
FROM reply_intervals
WHERE metric = 'customer_reply'
  AND deskpulse_in_dates(ended_at, {from:Date}, {to:Date}, {tz:String})
  AND deskpulse_filters(account_id, ticket_channel, priority, team_id, pipeline, category, {account:String},
                        {channel:String}, {priority:String}, {team:String}, {pipeline:String}, {category:String})
GROUP BY account_id, period, group
ORDER BY account_id, period, group
