-- tickets_created: tickets created per period, in the account's time zone.
-- Definition: one count per `ticket.created` event (de-duplicated by
-- event_id at ingest) whose creation time falls in [from, to] (local dates,
-- both inclusive), bucketed by day, ISO week (Monday), month, quarter or year.
-- Filters are optional: an empty string means "any".
SELECT
    account_id,
    deskpulse_period(occurred_at, {freq:String}, {tz:String}) AS period,
    count() AS tickets_created
FROM ticket_events
WHERE type = 'ticket.created'
  AND occurred_at >= toDateTime64(toString({from:Date}), 3, {tz:String})
  AND occurred_at < toDateTime64(toString({to:Date} + 1), 3, {tz:String})
  AND ({account:String} = '' OR account_id = {account:String})
  AND ({channel:String} = '' OR channel = {channel:String})
  AND ({priority:String} = '' OR priority = {priority:String})
  AND ({team:String} = '' OR team_id = {team:String})
  AND ({pipeline:String} = '' OR pipeline = {pipeline:String})
  AND ({category:String} = '' OR category = {category:String})
GROUP BY account_id, period
ORDER BY account_id, period
