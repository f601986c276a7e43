-- chat_wait_time: on chat tickets, the wait from the customer's first
-- message to the first rep message (the ticket's first response), per period
-- of that response, per rep (owner) or team, 24/7 and in SLA hours.
SELECT
    account_id,
    deskpulse_period(first_response_at, {freq:String}, {tz:String}) AS period,
    deskpulse_group({by:String}, owner_id, team_id) AS group,
    count() AS chats,
    round(avg(time_to_first_response_s), 1) AS avg_chat_wait_s,
    round(avg(time_to_first_response_sla_s), 1) AS avg_chat_wait_sla_s,
    round(quantileExactInclusive(0.5)(time_to_first_response_s), 1) AS median_chat_wait_s
FROM ticket_facts_current
WHERE channel = 'chat' AND time_to_first_response_s IS NOT NULL
  AND deskpulse_in_dates(first_response_at, {from:Date}, {to:Date}, {tz:String})
  AND deskpulse_filters(account_id, channel, priority, team_id, pipeline, category, {account:String},
                        {channel:String}, {priority:String}, {team:String}, {pipeline:String}, {category:String})
GROUP BY account_id, period, group
ORDER BY account_id, period, group
