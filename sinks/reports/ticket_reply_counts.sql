-- ticket_reply_counts: the 10 tickets of each account with the most rep
-- replies sent, and the 10 with the most customer messages received, over
-- messages in the range (bots and internal notes are not replies). Ties go
-- to the smaller ticket id.
-- The rows it sums are rows/time_of_day.sql (shared), read here as report_rows.
-- The top 10 are kept by groupArraySorted(10) over (-messages, ticket_id), a
-- bounded heap per account and list: a window over every ticket, then a
-- sort for LIMIT BY, cost 0.3 s and 0.2 s more on a year of 10 million
-- messages (make bench-reports, docs/performance.md).
SELECT account_id, list, rank, top[rank].2 AS ticket_id, -top[rank].1 AS messages
FROM
(
    SELECT account_id, list, top, arrayJoin(arrayEnumerate(top)) AS rank
    FROM
    (
        SELECT account_id, pair.1 AS list, groupArraySorted(10)((-pair.2, ticket_id)) AS top
        FROM
        (
            SELECT account_id, ticket_id,
                   arrayJoin([('most_sent', countIf(kind = 'sent')), ('most_received', countIf(kind = 'received'))]) AS pair
            FROM report_rows
            GROUP BY account_id, ticket_id
        )
        WHERE pair.2 > 0
        GROUP BY account_id, list
    )
)
ORDER BY account_id, list, rank
