-- time_of_day: messages per local hour of the day (0-23, in the report's
-- time zone) over the whole date range: customer messages received and rep
-- replies sent (bots and internal notes are not replies). Filters use the
-- ticket's current properties; messages of merged tickets count too. An
-- hour with neither is left out (a bot-only hour included).
SELECT
    account_id,
    toHour(occurred_at, {tz:String}) AS hour,
    countIf(direction = 'inbound') AS received,
    countIf(direction = 'outbound' AND sender_type = 'rep') AS sent
FROM messages_with_ticket
WHERE deskpulse_in_dates(occurred_at, {from:Date}, {to:Date}, {tz:String})
  AND deskpulse_filters(account_id, ticket_channel, priority, team_id, pipeline, category, {account:String},
                        {channel:String}, {priority:String}, {team:String}, {pipeline:String}, {category:String})
GROUP BY account_id, hour
HAVING received + sent > 0
ORDER BY account_id, hour
