-- Rows behind agent-conversations: each conversation started in the range
-- (agent_conversation_facts_current, one row per conversation), with what the
-- AI agent did in it (streams/core/agent_conversations.py defines each flag).
SELECT
    account_id,
    deskpulse_bucket(started_at, {freq:String}, {tz:String}, {from:Date}) AS period,
    channel, conversation_id, started_at,
    handled AS is_handled, resolved_by_agent AS is_resolved, resolved_at, resolution_s,
    deflected AS is_deflected, handed_off AS is_handed_off, handed_off_at, ticket_id, helpful, closed_at
FROM agent_conversation_facts_current
WHERE deskpulse_in_dates(started_at, {from:Date}, {to:Date}, {tz:String})
  AND ({account:String} = '' OR account_id = {account:String})
  AND ({channel:String} = '' OR channel = {channel:String})
