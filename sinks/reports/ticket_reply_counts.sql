-- ticket_reply_counts: the 10 tickets of each account with the most rep
-- replies sent, and the 10 with the most customer messages received, over
-- messages in the range (bots and internal notes are not replies). Ties go
-- to the smaller ticket id.
-- The rows it sums are rows/time_of_day.sql (shared), read here as report_rows.
-- The top 10 are cut with LIMIT BY before ranking (a window over every
-- ticket cost 0.3 s more on a year of 10 million messages: make bench-reports).
SELECT account_id, list, row_number() OVER (PARTITION BY account_id, list ORDER BY messages DESC, ticket_id) AS rank,
       ticket_id, messages
FROM
(
    SELECT account_id, pair.1 AS list, ticket_id, pair.2 AS messages
    FROM
    (
        SELECT account_id, ticket_id,
               arrayJoin([('most_sent', countIf(kind = 'sent')), ('most_received', countIf(kind = 'received'))]) AS pair
        FROM report_rows
        GROUP BY account_id, ticket_id
    )
    WHERE messages > 0
    ORDER BY account_id, list, messages DESC, ticket_id
    LIMIT 10 BY account_id, list
)
ORDER BY account_id, list, rank
