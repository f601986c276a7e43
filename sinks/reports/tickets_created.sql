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
  AND deskpulse_in_dates(occurred_at, {from:Date}, {to:Date}, {tz:String})
  AND deskpulse_filters(account_id, channel, priority, team_id, pipeline, category, {account:String},
                        {channel:String}, {priority:String}, {team:String}, {pipeline:String}, {category:String})
GROUP BY account_id, period
ORDER BY account_id, period
