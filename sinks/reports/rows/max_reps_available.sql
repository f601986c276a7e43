-- Rows behind max-reps-available: each piece of a rep's "available" status,
-- cut at local midnights and clipped to the range (as rep-availability).
SELECT account_id, toDate(started_at, {tz:String}) AS day, rep_id, team_id, started_at, ended_at, seconds
FROM rep_status_pieces(account = {account:String}, d_from = {from:Date}, d_to = {to:Date}, tz = {tz:String})
WHERE status = 'available' AND ({team:String} = '' OR team_id = {team:String})
