-- Rows behind time-in-status: each stage a ticket closed in the range spent
-- time in (first entry to last exit; the closed stage it rests in is left out).
SELECT
    account_id,
    deskpulse_bucket(closed_at, {freq:String}, {tz:String}, {from:Date}) AS period,
    pipeline,
    stage,
    deskpulse_group({by:String}, owner_id, team_id) AS group,
    ticket_id, owner_id, team_id, channel, priority, category, closed_at,
    stage_s AS time_in_stage_s, stage_sla_s AS time_in_stage_sla_s
FROM ticket_facts_current
ARRAY JOIN `stages.stage` AS stage, `stages.seconds` AS stage_s, `stages.sla_seconds` AS stage_sla_s
WHERE closed_at IS NOT NULL AND stage_s IS NOT NULL
  AND deskpulse_in_dates(closed_at, {from:Date}, {to:Date}, {tz:String})
  AND deskpulse_filters(account_id, channel, priority, team_id, pipeline, category, {account:String},
                        {channel:String}, {priority:String}, {team:String}, {pipeline:String}, {category:String})
