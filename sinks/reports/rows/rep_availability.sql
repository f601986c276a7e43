-- Rows behind rep-availability: each rep status interval cut at local
-- midnights and clipped to the range, so every piece lies in one local day
-- (and one period). An interval still open runs to now.
SELECT
    account_id,
    deskpulse_bucket(piece_start, {freq:String}, {tz:String}, {from:Date}) AS period,
    rep_id,
    status,
    team_id, piece_start AS started_at, piece_end AS ended_at,
    dateDiff('millisecond', piece_start, piece_end) / 1000 AS seconds
FROM
(
    SELECT account_id, rep_id, team_id, status, lo, hi,
           arrayJoin(range(toUInt32(toDate(lo, {tz:String})), toUInt32(toDate(hi, {tz:String})) + 1)) AS day_number,
           greatest(lo, toDateTime64(toString(toDate(day_number)), 3, {tz:String})) AS piece_start,
           least(hi, toDateTime64(toString(toDate(day_number + 1)), 3, {tz:String})) AS piece_end
    FROM
    (
        SELECT account_id, rep_id, team_id, status,
               greatest(started_at, toDateTime64(toString({from:Date}), 3, {tz:String})) AS lo,
               least(ifNull(ended_at, now64(3)), toDateTime64(toString({to:Date} + 1), 3, {tz:String})) AS hi
        FROM bi_rep_status_intervals
        WHERE ({account:String} = '' OR account_id = {account:String})
          AND ({team:String} = '' OR team_id = {team:String})
    )
    WHERE hi > lo
)
WHERE piece_end > piece_start
