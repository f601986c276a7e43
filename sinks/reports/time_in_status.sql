-- time_in_status: for tickets finally closed in the period, the average time
-- in each stage of their pipeline, 24/7 and in SLA hours. Time in a stage
-- runs from the ticket's first entry into it to its last exit (SPEC §3,
-- streams/core/stages.py). The closed stage a closed ticket rests in has no
-- time yet and is left out.
SELECT
    account_id,
    deskpulse_period(closed_at, {freq:String}, {tz:String}) AS period,
    pipeline,
    stage,
    deskpulse_group({by:String}, owner_id, team_id) AS group,
    count() AS tickets,
    round(avg(stage_s), 1) AS avg_time_in_stage_s,
    round(avg(stage_sla_s), 1) AS avg_time_in_stage_sla_s
FROM ticket_facts_current
ARRAY JOIN `stages.stage` AS stage, `stages.seconds` AS stage_s, `stages.sla_seconds` AS stage_sla_s
WHERE closed_at IS NOT NULL AND stage_s IS NOT NULL
  AND deskpulse_in_dates(closed_at, {from:Date}, {to:Date}, {tz:String})
  AND deskpulse_filters(account_id, channel, priority, team_id, pipeline, category, {account:String},
                        {channel:String}, {priority:String}, {team:String}, {pipeline:String}, {category:String})
GROUP BY account_id, period, pipeline, stage, group
ORDER BY account_id, period, pipeline, stage, group
