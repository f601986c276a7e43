-- Rows behind owner-reply-count: each ticket created in the range with the
-- rep replies it got (a merged ticket's replies count on its primary).
WITH replies AS (
    SELECT account_id, ticket_id, count() AS n FROM message_events
    WHERE direction = 'outbound' AND sender_type = 'rep'
    GROUP BY account_id, ticket_id
),
merged AS (
    SELECT account_id, merged_ticket_id AS merged_id, argMax(primary_id, occurred_at) AS primary_ticket
    FROM (SELECT account_id, merged_ticket_id, ticket_id AS primary_id, occurred_at FROM ticket_events
          WHERE type = 'ticket.merged')
    GROUP BY account_id, merged_ticket_id
),
per_ticket AS (
    SELECT r.account_id AS account_id, if(m.primary_ticket != '', m.primary_ticket, r.ticket_id) AS ticket_id,
           sum(r.n) AS replies
    FROM replies AS r LEFT JOIN merged AS m ON m.account_id = r.account_id AND m.merged_id = r.ticket_id
    GROUP BY account_id, ticket_id
)
SELECT
    f.account_id AS account_id,
    f.owner_id AS owner_id,
    f.ticket_id AS ticket_id, f.team_id AS team_id, f.channel AS channel, f.priority AS priority,
    f.pipeline AS pipeline, f.category AS category, f.created_at AS created_at, ifNull(p.replies, 0) AS replies
FROM ticket_facts_current AS f
LEFT JOIN per_ticket AS p ON p.account_id = f.account_id AND p.ticket_id = f.ticket_id
WHERE f.created_at IS NOT NULL
  AND deskpulse_in_dates(f.created_at, {from:Date}, {to:Date}, {tz:String})
  AND deskpulse_filters(f.account_id, f.channel, f.priority, f.team_id, f.pipeline, f.category, {account:String},
                        {channel:String}, {priority:String}, {team:String}, {pipeline:String}, {category:String})
