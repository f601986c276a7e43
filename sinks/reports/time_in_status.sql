-- time_in_status: for tickets finally closed in the period, the average time
-- in each stage of their pipeline, 24/7 and in SLA hours. Time in a stage
-- runs from the ticket's first entry into it to its last exit (SPEC §3,
-- streams/core/stages.py). The closed stage a closed ticket rests in has no
-- time yet and is left out.
-- The rows it sums are rows/time_in_status.sql, read here as report_rows.
SELECT
    account_id, period, pipeline, stage, group,
    count() AS tickets,
    round(avg(time_in_stage_s), 1) AS avg_time_in_stage_s,
    round(avg(time_in_stage_sla_s), 1) AS avg_time_in_stage_sla_s
FROM report_rows
GROUP BY account_id, period, pipeline, stage, group
ORDER BY account_id, period, pipeline, stage, group
