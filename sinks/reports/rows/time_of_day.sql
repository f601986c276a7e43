-- Rows behind time-of-day and ticket-reply-counts: each customer message
-- received and rep reply sent in the range, with its local hour (bots and
-- internal notes left out), with its ticket's current properties. A merged
-- ticket's messages count on its primary (ticket_id; message_ticket_id is
-- the ticket the message was written on), as in the ticket facts.
-- messages_with_ticket joined by hand: the ticket side is read for the
-- chosen account only (the view reads every account's tickets).
SELECT
    m.account_id AS account_id,
    toHour(m.occurred_at, {tz:String}) AS hour,
    if(p.primary_ticket != '', p.primary_ticket, m.ticket_id) AS ticket_id, m.ticket_id AS message_ticket_id,
    m.message_id AS message_id, m.occurred_at AS occurred_at,
    if(m.direction = 'inbound', 'received', 'sent') AS kind, m.sender_id AS sender_id,
    t.owner_id AS owner_id, t.team_id AS team_id, t.channel AS channel, t.priority AS priority,
    t.pipeline AS pipeline, t.category AS category
FROM message_events AS m
LEFT JOIN
(
    SELECT account_id, ticket_id, owner_id, team_id, channel, priority, pipeline, category FROM ticket_facts FINAL
    WHERE {account:String} = '' OR account_id = {account:String}
) AS t ON t.account_id = m.account_id AND t.ticket_id = m.ticket_id
LEFT JOIN
(
    -- the newest merge of each merged ticket (a merge chain is followed one step: chains are rare and
    -- the facts count them upward; see docs/metrics.md)
    SELECT account_id, merged_ticket_id AS merged_id, argMax(primary_id, occurred_at) AS primary_ticket
    FROM (SELECT account_id, merged_ticket_id, ticket_id AS primary_id, occurred_at FROM ticket_events
          WHERE type = 'ticket.merged' AND ({account:String} = '' OR account_id = {account:String}))
    GROUP BY account_id, merged_ticket_id
) AS p ON p.account_id = m.account_id AND p.merged_id = m.ticket_id
WHERE (m.direction = 'inbound' OR (m.direction = 'outbound' AND m.sender_type = 'rep'))
  AND ({account:String} = '' OR m.account_id = {account:String})
  AND deskpulse_in_dates(m.occurred_at, {from:Date}, {to:Date}, {tz:String})
  AND deskpulse_filters(m.account_id, t.channel, t.priority, t.team_id, t.pipeline, t.category, {account:String},
                        {channel:String}, {priority:String}, {team:String}, {pipeline:String}, {category:String})
SETTINGS join_use_nulls = 0
