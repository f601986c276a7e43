-- csat: customer satisfaction answers in the period, per survey scale (a 1-5
-- and a 1-10 answer are never averaged together): answers, satisfied answers
-- (the top two scores of their scale), the satisfied share, and the average
-- score. Filters and groups use the ticket's current properties; an answer
-- for a ticket the store does not know counts only without filters.
SELECT
    account_id,
    deskpulse_period(occurred_at, {freq:String}, {tz:String}) AS period,
    scale,
    deskpulse_group({by:String}, owner_id, team_id) AS group,
    count() AS answers,
    countIf(score >= scale - 1) AS satisfied,
    round(satisfied / answers, 4) AS satisfied_share,
    round(avg(score), 2) AS avg_score
FROM feedback_with_ticket
WHERE survey = 'csat'
  AND deskpulse_in_dates(occurred_at, {from:Date}, {to:Date}, {tz:String})
  AND deskpulse_filters(account_id, ticket_channel, priority, team_id, pipeline, category, {account:String},
                        {channel:String}, {priority:String}, {team:String}, {pipeline:String}, {category:String})
GROUP BY account_id, period, scale, group
ORDER BY account_id, period, scale, group
