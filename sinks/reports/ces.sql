-- ces: customer effort answers in the period, per survey scale: answers and
-- the average score (lower effort is better on the usual CES wording, so no
-- "satisfied" share is derived). Filters and groups use the ticket's current
-- properties; an answer for a ticket the store does not know counts only
-- without filters.
SELECT
    f.account_id AS account_id,
    deskpulse_period(f.occurred_at, {freq:String}, {tz:String}) AS period,
    f.scale AS scale,
    deskpulse_group({by:String}, t.owner_id, t.team_id) AS group,
    count() AS answers,
    round(avg(f.score), 2) AS avg_score
FROM feedback_events AS f
LEFT JOIN (SELECT * FROM ticket_facts FINAL) AS t ON t.account_id = f.account_id AND t.ticket_id = f.ticket_id
WHERE f.survey = 'ces'
  AND deskpulse_in_dates(f.occurred_at, {from:Date}, {to:Date}, {tz:String})
  AND deskpulse_filters(f.account_id, t.channel, t.priority, t.team_id, t.pipeline, t.category, {account:String},
                        {channel:String}, {priority:String}, {team:String}, {pipeline:String}, {category:String})
GROUP BY account_id, period, scale, group
ORDER BY account_id, period, scale, group
SETTINGS join_use_nulls = 0
