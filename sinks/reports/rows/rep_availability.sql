-- Rows behind rep-availability: each rep status interval cut at local
-- midnights and clipped to the range (the view rep_status_pieces), so every
-- piece lies in one local day (and one period).
SELECT
    account_id,
    deskpulse_bucket(started_at, {freq:String}, {tz:String}, {from:Date}) AS period,
    rep_id, status, team_id, started_at, ended_at, seconds
FROM rep_status_pieces(account = {account:String}, d_from = {from:Date}, d_to = {to:Date}, tz = {tz:String})
WHERE {team:String} = '' OR team_id = {team:String}
