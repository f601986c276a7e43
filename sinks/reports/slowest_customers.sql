-- slowest_customers: the 10 customers of each account who took longest, on
-- average, to answer the team over the range (customer_reply intervals that
-- ended in it), with how many answers that average rests on.
SELECT account_id, customer_id, replies, avg_customer_reply_s
FROM
(
    SELECT
        account_id,
        answered_by AS customer_id,
        count() AS replies,
        round(avg(seconds), 1) AS avg_customer_reply_s,
        row_number() OVER (PARTITION BY account_id ORDER BY avg(seconds) DESC, answered_by) AS rank
    FROM reply_intervals
    WHERE metric = 'customer_reply'
      AND deskpulse_in_dates(ended_at, {from:Date}, {to:Date}, {tz:String})
      AND deskpulse_filters(account_id, ticket_channel, priority, team_id, pipeline, category, {account:String},
                            {channel:String}, {priority:String}, {team:String}, {pipeline:String},
                            {category:String})
    GROUP BY account_id, customer_id
)
WHERE rank <= 10
ORDER BY account_id, rank
