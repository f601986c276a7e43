-- ticket_reply_counts: the 10 tickets of each account with the most rep
-- replies sent, and the 10 with the most customer messages received, over
-- messages in the range (bots and internal notes are not replies). Ties go
-- to the smaller ticket id.
-- The rows it sums are rows/ticket_reply_counts.sql, read here as report_rows.
SELECT account_id, list, rank, ticket_id, messages
FROM
(
    SELECT account_id, list, ticket_id, messages,
           row_number() OVER (PARTITION BY account_id, list ORDER BY messages DESC, ticket_id) AS rank
    FROM
    (
        SELECT account_id, ticket_id, arrayJoin([('most_sent', sent), ('most_received', received)]) AS pair,
               pair.1 AS list, pair.2 AS messages
        FROM
        (
            SELECT account_id, ticket_id, countIf(kind = 'sent') AS sent, countIf(kind = 'received') AS received
            FROM report_rows
            GROUP BY account_id, ticket_id
        )
    )
    WHERE messages > 0
)
WHERE rank <= 10
ORDER BY account_id, list, rank
