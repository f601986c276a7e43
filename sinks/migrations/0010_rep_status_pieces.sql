-- rep_status_pieces(account, d_from, d_to, tz): every rep status interval of
-- the account ('' : every account), clipped to the local dates [d_from, d_to]
-- and cut at local midnights, so each piece lies in one local day. An
-- interval still open runs to now. The rep reports read their rows from it
-- (sinks/reports/rows/rep_*.sql, max_reps_available.sql); BI tools can too.
CREATE VIEW IF NOT EXISTS rep_status_pieces {on_cluster} AS
SELECT account_id, rep_id, team_id, status, started_at, ended_at,
       dateDiff('millisecond', started_at, ended_at) / 1000 AS seconds
FROM
(
    SELECT account_id, rep_id, team_id, status,
           greatest(lo, toDateTime64(toString(toDate(day_number)), 3, {tz:String})) AS started_at,
           least(hi, toDateTime64(toString(toDate(day_number + 1)), 3, {tz:String})) AS ended_at
    FROM
    (
        SELECT account_id, rep_id, team_id, status, lo, hi,
               arrayJoin(range(toUInt32(toDate(lo, {tz:String})), toUInt32(toDate(hi, {tz:String})) + 1)) AS day_number
        FROM
        (
            SELECT account_id, rep_id, team_id, status,
                   greatest(started_at, toDateTime64(toString({d_from:Date}), 3, {tz:String})) AS lo,
                   least(ifNull(ended_at, now64(3)), toDateTime64(toString({d_to:Date} + 1), 3, {tz:String})) AS hi
            FROM bi_rep_status_intervals
            WHERE {account:String} = '' OR account_id = {account:String}
        )
        WHERE hi > lo
    )
)
WHERE ended_at > started_at;
