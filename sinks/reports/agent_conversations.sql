-- agent_conversations: what the AI agent did, per period of the
-- conversation's start and channel. The handling rate is over all
-- conversations; the resolution, deflection and handoff rates are over the
-- conversations the agent handled; the helpful share over those with feedback.
-- The rows it sums are rows/agent_conversations.sql, read here as report_rows.
SELECT
    account_id, period, channel,
    count() AS conversations,
    countIf(is_handled) AS handled,
    round(handled / conversations, 4) AS handling_rate,
    countIf(is_resolved) AS resolved,
    deskpulse_ratio(resolved, handled) AS resolution_rate,
    if(resolved = 0, NULL, round(avgIf(resolution_s, is_resolved), 1)) AS avg_resolution_s,
    countIf(is_deflected) AS deflections,
    deskpulse_ratio(deflections, handled) AS deflection_rate,
    countIf(is_handed_off) AS handoffs,
    deskpulse_ratio(handoffs, handled) AS handoff_rate,
    countIf(helpful = true) AS helpful_feedback,
    countIf(helpful = false) AS unhelpful_feedback,
    deskpulse_ratio(helpful_feedback, helpful_feedback + unhelpful_feedback) AS helpful_share
FROM report_rows
GROUP BY account_id, period, channel
ORDER BY account_id, period, channel
