-- time_of_day: messages per local hour of the day (0-23, in the report's
-- time zone) over the whole date range: customer messages received and rep
-- replies sent (bots and internal notes are not replies). Filters use the
-- ticket's current properties; messages of merged tickets count too. An
-- hour with neither is left out (a bot-only hour included).
SELECT
    m.account_id AS account_id,
    toHour(m.occurred_at, {tz:String}) AS hour,
    countIf(m.direction = 'inbound') AS received,
    countIf(m.direction = 'outbound' AND m.sender_type = 'rep') AS sent
FROM message_events AS m
LEFT JOIN (SELECT * FROM ticket_facts FINAL) AS t ON t.account_id = m.account_id AND t.ticket_id = m.ticket_id
WHERE deskpulse_in_dates(m.occurred_at, {from:Date}, {to:Date}, {tz:String})
  AND deskpulse_filters(m.account_id, t.channel, t.priority, t.team_id, t.pipeline, t.category, {account:String},
                        {channel:String}, {priority:String}, {team:String}, {pipeline:String}, {category:String})
GROUP BY account_id, hour
HAVING received + sent > 0
ORDER BY account_id, hour
SETTINGS join_use_nulls = 0
