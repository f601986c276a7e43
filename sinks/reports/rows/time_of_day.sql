-- Rows behind time-of-day: each customer message received and rep reply
-- sent in the range, with its local hour (bots and internal notes left out).
SELECT
    account_id,
    toHour(occurred_at, {tz:String}) AS hour,
    ticket_id, message_id, occurred_at, if(direction = 'inbound', 'received', 'sent') AS kind, sender_id,
    owner_id, team_id, ticket_channel AS channel, priority, pipeline, category
FROM messages_with_ticket
WHERE (direction = 'inbound' OR (direction = 'outbound' AND sender_type = 'rep'))
  AND deskpulse_in_dates(occurred_at, {from:Date}, {to:Date}, {tz:String})
  AND deskpulse_filters(account_id, ticket_channel, priority, team_id, pipeline, category, {account:String},
                        {channel:String}, {priority:String}, {team:String}, {pipeline:String}, {category:String})
