-- agent_impact: the AI agent this week against the previous one, for the
-- account's local week (Monday first) of {day}: this week from its Monday to
-- the end of {day}, or to now while {day} is today; the previous week over
-- the same stretch seven days earlier, so a week in progress is compared
-- like for like. Conversations count in the week they started in. Always
-- one row (no GROUP BY): a week with no conversations shows zeros.
WITH
    toMonday({day:Date}) AS monday,
    toDateTime64(toString(monday), 3, {tz:String}) AS this_from,
    least(toDateTime64(toString({day:Date} + 1), 3, {tz:String}), now64(3)) AS this_to,
    toDateTime64(toString(monday - 7), 3, {tz:String}) AS previous_from,
    least(toDateTime64(toString({day:Date} - 6), 3, {tz:String}), now64(3) - INTERVAL 7 DAY) AS previous_to,
    started_at >= this_from AND started_at < this_to AS this_week,
    started_at >= previous_from AND started_at < previous_to AS previous_week
SELECT
    {account:String} AS account_id,
    monday AS week_from,
    countIf(this_week AND is_handled) AS handled,
    countIf(previous_week AND is_handled) AS handled_previous,
    countIf(this_week AND is_resolved) AS resolved,
    countIf(previous_week AND is_resolved) AS resolved_previous,
    if(resolved = 0, NULL, round(avgIf(resolution_s, this_week AND is_resolved), 1)) AS avg_resolution_s,
    if(resolved_previous = 0, NULL,
       round(avgIf(resolution_s, previous_week AND is_resolved), 1)) AS avg_resolution_previous_s,
    deskpulse_ratio(countIf(this_week AND is_deflected), handled) AS deflection_rate,
    deskpulse_ratio(countIf(previous_week AND is_deflected), handled_previous) AS deflection_rate_previous,
    deskpulse_ratio(countIf(this_week AND helpful = true), countIf(this_week AND helpful IS NOT NULL)) AS helpful_share,
    deskpulse_ratio(countIf(previous_week AND helpful = true), countIf(previous_week AND helpful IS NOT NULL))
        AS helpful_share_previous
FROM
(
    SELECT account_id, started_at, handled AS is_handled, resolved_by_agent AS is_resolved, resolution_s,
           deflected AS is_deflected, helpful
    FROM agent_conversation_facts_current
    WHERE account_id = {account:String}
)
WHERE started_at >= previous_from AND started_at < this_to
