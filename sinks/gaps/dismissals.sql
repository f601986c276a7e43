-- Every dismissal of an account's knowledge gaps (agent.gap_dismissed): a
-- topic dismissed at a time hides its questions up to that time; a question
-- dismissed is hidden for good.
SELECT occurred_at, topic_id, question_id
FROM agent_events
WHERE account_id = {account:String} AND type = 'agent.gap_dismissed'
ORDER BY occurred_at, event_id
