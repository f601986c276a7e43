-- The ticket each of these conversations was handed off with ('' : none).
SELECT conversation_id, ticket_id
FROM agent_conversation_facts_current
WHERE account_id = {account:String} AND conversation_id IN {conversations:Array(String)}
