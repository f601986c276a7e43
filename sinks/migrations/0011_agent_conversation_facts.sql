-- Customer AI agent (SPEC §7): one row per conversation, latest version wins,
-- as ticket_facts. The worker writes a new version whenever one of the
-- conversation's agent.* events arrives (streams/core/agent_conversations.py
-- defines every column). What happened after a handoff (the team closed the
-- ticket, how long it took) is joined from ticket_facts when a report runs,
-- so a conversation row never waits for its ticket.
CREATE TABLE IF NOT EXISTS agent_conversation_facts {on_cluster}
(
    account_id         LowCardinality(String),
    conversation_id    String,
    started_at         DateTime64(3, 'UTC'),
    channel            LowCardinality(String),
    handled            Bool,
    handed_off         Bool,
    handed_off_at      Nullable(DateTime64(3, 'UTC')),
    ticket_id          String,
    to_rep_id          LowCardinality(String),
    to_team_id         LowCardinality(String),
    resolved_by_agent  Bool,
    resolved_at        Nullable(DateTime64(3, 'UTC')),
    closed_at          Nullable(DateTime64(3, 'UTC')),
    deflected          Bool,
    resolution_s       Nullable(Float64),
    helpful            Nullable(Bool),
    computed_at        DateTime64(3, 'UTC'),
    version            UInt64
)
ENGINE = {replicated}ReplacingMergeTree(version)
ORDER BY (account_id, conversation_id);

CREATE VIEW IF NOT EXISTS agent_conversation_facts_current {on_cluster} AS
SELECT * EXCEPT (version) FROM agent_conversation_facts FINAL;

-- One row per conversation with what became of its handoff ticket: the
-- ticket's final close and its owner and team now. A handoff ticket merged
-- into another counts as its primary (SPEC §3: history counts on the primary).
CREATE VIEW IF NOT EXISTS agent_conversations {on_cluster} AS
SELECT c.account_id AS account_id, c.conversation_id AS conversation_id, c.started_at AS started_at,
       c.channel AS channel, c.handled AS handled, c.handed_off AS handed_off, c.handed_off_at AS handed_off_at,
       c.ticket_id AS ticket_id, c.to_rep_id AS to_rep_id, c.to_team_id AS to_team_id,
       c.resolved_by_agent AS resolved_by_agent, c.resolved_at AS resolved_at, c.closed_at AS closed_at,
       c.deflected AS deflected, c.resolution_s AS resolution_s, c.helpful AS helpful,
       coalesce(nullIf(m.primary_ticket_id, ''), c.ticket_id) AS resolving_ticket_id,
       t.closed_at AS ticket_closed_at,
       t.owner_id AS ticket_owner_id,
       t.team_id AS ticket_team_id
FROM agent_conversation_facts_current AS c
LEFT JOIN
(
    SELECT account_id, merged_ticket_id AS ticket_id, argMax(primary_id, occurred_at) AS primary_ticket_id
    FROM (SELECT account_id, merged_ticket_id, ticket_id AS primary_id, occurred_at
          FROM ticket_events WHERE type = 'ticket.merged')
    GROUP BY account_id, merged_ticket_id
) AS m ON m.account_id = c.account_id AND m.ticket_id = c.ticket_id
LEFT JOIN
(
    SELECT account_id, ticket_id, closed_at, owner_id, team_id FROM ticket_facts_current
) AS t ON t.account_id = c.account_id AND t.ticket_id = resolving_ticket_id
SETTINGS join_use_nulls = 1;

-- A conversation's stored events are read back by its id when the worker
-- folds it again (streams/worker/conversations.py).
ALTER TABLE agent_events {on_cluster} ADD INDEX IF NOT EXISTS conversation_idx conversation_id TYPE bloom_filter GRANULARITY 4;

-- deskpulse_working_s(lo_ms, hi_ms, calendar, calendars, starts, ends): the
-- seconds of [lo_ms, hi_ms) (epoch milliseconds) inside the working intervals
-- of `calendar`. The request passes every calendar's intervals as three
-- parallel arrays, computed by the worker's business-time core
-- (sinks/reports/request.py), so reports measure SLA and working hours with
-- the same arithmetic as the SLA clocks.
CREATE OR REPLACE FUNCTION deskpulse_working_s {on_cluster} AS (lo_ms, hi_ms, calendar, calendars, starts, ends) ->
    arraySum(arrayMap((c, s, e) -> if(c = calendar, greatest(0, least(e, hi_ms) - greatest(s, lo_ms)), 0),
                      calendars, starts, ends)) / 1000;

-- Knowledge-gap dismissals (agent.gap_dismissed) name a topic or a question.
ALTER TABLE agent_events {on_cluster} ADD COLUMN IF NOT EXISTS topic_id String AFTER helpful;
ALTER TABLE agent_events {on_cluster} ADD COLUMN IF NOT EXISTS question_id String AFTER topic_id;

-- deskpulse_ratio(part, whole): part / whole rounded to 4 places, NULL when
-- there is no whole (a rate of nothing is not 0).
CREATE OR REPLACE FUNCTION deskpulse_ratio {on_cluster} AS (part, whole) ->
    if(whole = 0, NULL, round(part / whole, 4));
