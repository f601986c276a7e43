-- day_summary: the live summary's figures for one finished local day, from
-- ClickHouse (the live API gives them for today; for a day that has ended
-- both must agree: tests/integration/test_live_api.py checks it). Definitions as in
-- streams/core/live_summary.py. Parameters: account, day (local date), tz,
-- closed (the closed stages of the account's pipelines).
WITH
    toDateTime64(toString({day:Date}), 3, {tz:String}) AS day_start,
    toDateTime64(toString({day:Date} + 1), 3, {tz:String}) AS day_end,
    status_changes AS (
        SELECT ticket_id, occurred_at, event_id, status IN {closed:Array(String)} AS is_closed
        FROM ticket_events
        WHERE account_id = {account:String} AND (type = 'ticket.created' OR has(changed, 'status'))
          AND occurred_at < day_end
    ),
    ticket_day AS (
        SELECT
            ticket_id,
            argMax(is_closed, (occurred_at, event_id)) AS closed_at_end,
            minIf(occurred_at, is_closed AND occurred_at >= day_start) AS first_close_today
        FROM status_changes GROUP BY ticket_id
    ),
    facts AS (SELECT * FROM ticket_facts_current WHERE account_id = {account:String}),
    messages AS (
        SELECT occurred_at, direction, sender_type FROM message_events
        WHERE account_id = {account:String} AND occurred_at >= day_start AND occurred_at < day_end
    ),
    intervals AS (
        SELECT metric, seconds FROM reply_intervals
        WHERE account_id = {account:String} AND ended_at >= day_start AND ended_at < day_end
    ),
    answers AS (
        SELECT score, scale FROM feedback_events
        WHERE account_id = {account:String} AND survey = 'csat' AND occurred_at >= day_start AND occurred_at < day_end
    ),
    calls AS (
        SELECT outcome, duration_s FROM call_events
        WHERE account_id = {account:String} AND occurred_at >= day_start AND occurred_at < day_end
    )
SELECT
    (SELECT count() FROM ticket_events WHERE account_id = {account:String} AND type = 'ticket.created'
       AND occurred_at >= day_start AND occurred_at < day_end) AS new_tickets,
    (SELECT count() FROM ticket_day WHERE NOT closed_at_end
       AND ticket_id IN (SELECT ticket_id FROM facts)) AS open_tickets,
    (SELECT count() FROM ticket_day WHERE first_close_today >= day_start AND first_close_today < day_end
       AND ticket_id IN (SELECT ticket_id FROM facts)) AS closed,
    (SELECT round(avg(time_to_first_response_s), 3) FROM facts
       WHERE first_response_at >= day_start AND first_response_at < day_end) AS avg_first_response_s,
    (SELECT round(avg(dateDiff('millisecond', f.created_at, d.first_close_today) / 1000), 3)
       FROM ticket_day AS d INNER JOIN facts AS f USING (ticket_id)
       WHERE d.first_close_today >= day_start AND d.first_close_today < day_end) AS avg_time_to_close_s,
    (SELECT countIf(direction = 'inbound') FROM messages) AS messages_received,
    (SELECT countIf(direction = 'outbound' AND sender_type = 'rep') FROM messages) AS messages_sent,
    (SELECT round(avgIf(seconds, metric = 'customer_wait'), 3) FROM intervals) AS customer_wait_s,
    (SELECT round(avgIf(seconds, metric = 'customer_reply'), 3) FROM intervals) AS rep_wait_s,
    (SELECT toHour(occurred_at, {tz:String}) AS h FROM messages WHERE direction = 'inbound'
       GROUP BY h ORDER BY count() DESC, h LIMIT 1) AS peak_incoming_hour,
    (SELECT toHour(occurred_at, {tz:String}) AS h FROM messages WHERE direction = 'outbound' AND sender_type = 'rep'
       GROUP BY h ORDER BY count() DESC, h LIMIT 1) AS peak_outgoing_hour,
    (SELECT if(count() = 0, NULL, round(countIf(score >= scale - 1) / count(), 4)) FROM answers) AS csat,
    (SELECT countIf(outcome = 'completed') FROM calls) AS calls_completed,
    (SELECT countIf(outcome = 'missed') FROM calls) AS calls_missed,
    (SELECT round(sum(duration_s), 3) FROM calls) AS call_duration_s
