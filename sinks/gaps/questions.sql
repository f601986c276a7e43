-- The questions the AI agent could not answer (agent.unanswered) that the
-- knowledge gaps group: an account's most recent {limit} of the last
-- {days} days, once each, oldest first (the grouping reads them in order).
SELECT event_id, occurred_at, question, conversation_id
FROM
(
    SELECT event_id, occurred_at, question, conversation_id
    FROM agent_events
    WHERE account_id = {account:String} AND type = 'agent.unanswered'
      AND occurred_at >= now64(3) - toIntervalDay({days:UInt16})
    ORDER BY occurred_at DESC, event_id DESC
    LIMIT 1 BY event_id
    LIMIT {limit:UInt32}
)
ORDER BY occurred_at, event_id
