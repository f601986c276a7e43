-- time_of_day: messages per local hour of the day (0-23, in the report's
-- time zone) over the whole date range: customer messages received and rep
-- replies sent (bots and internal notes are not replies). Filters use the
-- ticket's current properties; messages of merged tickets count too. An
-- hour with neither is left out (a bot-only hour included).
-- The rows it sums are rows/time_of_day.sql, read here as report_rows.
SELECT
    account_id, hour,
    countIf(kind = 'received') AS received,
    countIf(kind = 'sent') AS sent
FROM report_rows
GROUP BY account_id, hour
ORDER BY account_id, hour
