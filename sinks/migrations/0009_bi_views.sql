-- The BI surface: stable views for BI tools (Grafana, Metabase, Superset,
-- a notebook), one row per ticket, message, reply interval, SLA clock, stage
-- interval, rep status interval and survey answer. Their columns are
-- described in sinks/reports/reports.yml (`bi_views`) and docs/reports.md; a
-- test keeps the two equal. Reports and BI read the same facts, so a chart in
-- a BI tool and `deskpulse report` agree. Merged and deleted tickets are left
-- out of the ticket-grained views (as in the reports).

CREATE VIEW IF NOT EXISTS bi_tickets {on_cluster} AS
SELECT account_id, ticket_id, created_at, status, pipeline, owner_id, team_id, priority, channel, category,
       first_response_at, first_responder, time_to_first_response_s, time_to_first_response_sla_s, closed_at,
       time_to_close_s, time_to_close_sla_s, reopen_count, waiting_since
FROM ticket_facts_current;

CREATE VIEW IF NOT EXISTS bi_messages {on_cluster} AS
SELECT account_id, ticket_id, message_id, occurred_at, direction, sender_type, sender_id, channel,
       owner_id, team_id, ticket_channel, priority, pipeline, category
FROM messages_with_ticket;

CREATE VIEW IF NOT EXISTS bi_reply_intervals {on_cluster} AS
SELECT account_id, ticket_id, metric, started_at, ended_at, waiting, answered_by, channel, first, seconds,
       sla_seconds, owner_id, team_id, ticket_channel, priority, pipeline, category
FROM reply_intervals;

CREATE VIEW IF NOT EXISTS bi_sla_clocks {on_cluster} AS
SELECT account_id, ticket_id, metric, started_at, target_s, due_soon_at, due_at, stopped_at, state, owner_id,
       team_id, priority, pipeline, channel
FROM sla_clocks;

CREATE VIEW IF NOT EXISTS bi_stage_intervals {on_cluster} AS
SELECT account_id, ticket_id, pipeline, stage, entered_at, left_at, seconds, sla_seconds, owner_id, team_id,
       priority, channel, category
FROM ticket_facts_current
ARRAY JOIN `stages.stage` AS stage, `stages.entered_at` AS entered_at, `stages.left_at` AS left_at,
           `stages.seconds` AS seconds, `stages.sla_seconds` AS sla_seconds;

-- A rep's status lasts until the rep's next status change (ended_at NULL:
-- the rep is still in it).
CREATE VIEW IF NOT EXISTS bi_rep_status_intervals {on_cluster} AS
SELECT account_id, rep_id, team_id, status, started_at, ended_at,
       if(ended_at IS NULL, NULL, dateDiff('millisecond', started_at, assumeNotNull(ended_at)) / 1000) AS seconds
FROM
(
    SELECT account_id, rep_id, team_id, status, occurred_at AS started_at,
           leadInFrame(toNullable(occurred_at)) OVER (PARTITION BY account_id, rep_id ORDER BY occurred_at, event_id
                                                     ROWS BETWEEN CURRENT ROW AND 1 FOLLOWING) AS ended_at
    FROM availability_events
);

CREATE VIEW IF NOT EXISTS bi_feedback {on_cluster} AS
SELECT account_id, ticket_id, occurred_at, survey, score, scale, contact_id, owner_id, team_id, ticket_channel,
       priority, pipeline, category
FROM feedback_with_ticket;
