-- agent_day: the AI agent on one local day of the account against the day
-- before: the whole day, or while {day} is today, the day so far against
-- yesterday up to the same time (the live dashboard's "vs same time
-- yesterday"). Conversations count on the day they started. Always one row.
WITH
    toDateTime64(toString({day:Date}), 3, {tz:String}) AS day_from,
    least(toDateTime64(toString({day:Date} + 1), 3, {tz:String}), now64(3)) AS day_to,
    toDateTime64(toString({day:Date} - 1), 3, {tz:String}) AS before_from,
    least(toDateTime64(toString({day:Date}), 3, {tz:String}), now64(3) - INTERVAL 1 DAY) AS before_to,
    started_at >= day_from AND started_at < day_to AS on_day,
    started_at >= before_from AND started_at < before_to AS day_before
SELECT
    {account:String} AS account_id,
    {day:Date} AS day,
    countIf(on_day) AS conversations,
    countIf(day_before) AS conversations_yesterday,
    countIf(on_day AND is_handled) AS handled,
    countIf(day_before AND is_handled) AS handled_yesterday,
    countIf(on_day AND is_resolved) AS resolved,
    countIf(day_before AND is_resolved) AS resolved_yesterday,
    countIf(on_day AND is_deflected) AS deflections,
    countIf(day_before AND is_deflected) AS deflections_yesterday,
    countIf(on_day AND is_handed_off) AS handoffs,
    countIf(day_before AND is_handed_off) AS handoffs_yesterday,
    deskpulse_ratio(countIf(on_day AND helpful = true), countIf(on_day AND helpful IS NOT NULL)) AS helpful_share,
    deskpulse_ratio(countIf(day_before AND helpful = true), countIf(day_before AND helpful IS NOT NULL))
        AS helpful_share_yesterday
FROM
(
    SELECT started_at, handled AS is_handled, resolved_by_agent AS is_resolved, deflected AS is_deflected,
           handed_off AS is_handed_off, helpful
    FROM agent_conversation_facts_current
    WHERE account_id = {account:String}
)
WHERE started_at >= before_from AND started_at < day_to
