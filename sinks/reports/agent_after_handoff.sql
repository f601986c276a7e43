-- agent_after_handoff: per period of the handoff (and rep or team of the
-- ticket), how many handed-off conversations the team resolved and how long
-- from the handoff to the close, from rows/agent_after_handoff.sql.
SELECT
    account_id, period, group,
    count() AS handoffs,
    countIf(team_resolved) AS team_resolved_conversations,
    round(team_resolved_conversations / handoffs, 4) AS team_resolution_rate,
    if(team_resolved_conversations = 0, NULL, round(avgIf(handoff_to_close_s, team_resolved), 1))
        AS avg_handoff_to_close_s,
    if(team_resolved_conversations = 0, NULL, round(avgIf(handoff_to_close_sla_s, team_resolved), 1))
        AS avg_handoff_to_close_sla_s
FROM report_rows
GROUP BY account_id, period, group
ORDER BY account_id, period, group
