-- Rows behind agent-vs-team: each conversation resolved in the range, by the
-- AI agent (resolved with no handoff, at its resolution) or by the team (its
-- handoff ticket closed, at the ticket's final close; the resolver is the
-- ticket's owner now, else the rep it was handed to).
SELECT
    account_id,
    deskpulse_bucket(resolved_time, {freq:String}, {tz:String}, {from:Date}) AS period,
    resolver, resolver_kind, conversation_id, channel, ticket_id, resolved_time
FROM
(
    SELECT account_id, conversation_id, channel, resolving_ticket_id AS ticket_id,
           if(resolved_by_agent, 'agent', 'rep') AS resolver_kind,
           multiIf(resolved_by_agent, 'AI agent', ticket_owner_id != '', ticket_owner_id, to_rep_id != '', to_rep_id,
                   '(unassigned)') AS resolver,
           if(resolved_by_agent, resolved_at, ticket_closed_at) AS resolved_time
    FROM agent_conversations
    WHERE (resolved_by_agent OR (handed_off AND ticket_closed_at IS NOT NULL))
      AND ({account:String} = '' OR account_id = {account:String})
      AND ({channel:String} = '' OR channel = {channel:String})
)
WHERE deskpulse_in_dates(resolved_time, {from:Date}, {to:Date}, {tz:String})
