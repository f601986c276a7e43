-- Rows behind max-reps-available: each piece of a rep's "available" status,
-- cut at local midnights and clipped to the range (as rep-availability).
SELECT account_id, toDate(started_at, {tz:String}) AS day, rep_id, team_id, started_at, ended_at, seconds
FROM
(
    SELECT
        account_id, rep_id, team_id, status,
        greatest(lo, toDateTime64(toString(toDate(day_number)), 3, {tz:String})) AS started_at,
        least(hi, toDateTime64(toString(toDate(day_number + 1)), 3, {tz:String})) AS ended_at,
        dateDiff('millisecond', started_at, ended_at) / 1000 AS seconds
    FROM
    (
        SELECT account_id, rep_id, team_id, status, lo, hi,
               arrayJoin(range(toUInt32(toDate(lo, {tz:String})), toUInt32(toDate(hi, {tz:String})) + 1)) AS day_number
        FROM
        (
            SELECT account_id, rep_id, team_id, status,
                   greatest(started_at, toDateTime64(toString({from:Date}), 3, {tz:String})) AS lo,
                   least(ifNull(ended_at, now64(3)), toDateTime64(toString({to:Date} + 1), 3, {tz:String})) AS hi
            FROM bi_rep_status_intervals
            WHERE status = 'available'
              AND ({account:String} = '' OR account_id = {account:String})
              AND ({team:String} = '' OR team_id = {team:String})
        )
        WHERE hi > lo
    )
)
WHERE ended_at > started_at
