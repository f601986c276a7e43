-- Feedback answers and messages with the current properties of their ticket
-- (owner, team, channel, priority, pipeline, category), so reports and BI
-- tools filter and group them the same way as the ticket facts. A row whose
-- ticket the store does not know has '' properties (it then matches only
-- unfiltered reports). Merged tickets keep their own row here.
CREATE VIEW IF NOT EXISTS feedback_with_ticket {on_cluster} AS
SELECT f.*, t.owner_id AS owner_id, t.team_id AS team_id, t.channel AS ticket_channel, t.priority AS priority,
       t.pipeline AS pipeline, t.category AS category
FROM feedback_events AS f
LEFT JOIN
(
    SELECT account_id, ticket_id, owner_id, team_id, channel, priority, pipeline, category FROM ticket_facts FINAL
) AS t ON t.account_id = f.account_id AND t.ticket_id = f.ticket_id
SETTINGS join_use_nulls = 0;

CREATE VIEW IF NOT EXISTS messages_with_ticket {on_cluster} AS
SELECT m.*, t.owner_id AS owner_id, t.team_id AS team_id, t.channel AS ticket_channel, t.priority AS priority,
       t.pipeline AS pipeline, t.category AS category
FROM message_events AS m
LEFT JOIN
(
    SELECT account_id, ticket_id, owner_id, team_id, channel, priority, pipeline, category FROM ticket_facts FINAL
) AS t ON t.account_id = m.account_id AND t.ticket_id = m.ticket_id
SETTINGS join_use_nulls = 0;
