-- Rows behind rep-availability-hours: each piece of a rep's "available"
-- status (cut at local midnights, clipped to the range), with how much of it
-- falls in the rep's working hours. The rep's calendar is the rep's own
-- (reps.<rep>.calendar), else the team's, else the account's default ('' :
-- 24/7); the request passes each calendar's working intervals over the range
-- as epoch milliseconds (sinks/reports/request.py, from the account's
-- configuration, by the worker's business-time core).
SELECT
    account_id,
    deskpulse_bucket(started_at, {freq:String}, {tz:String}, {from:Date}) AS period,
    rep_id, team_id, started_at, ended_at, seconds,
    transform(rep_id, {rep_keys:Array(String)}, {rep_calendars:Array(String)},
              transform(team_id, {team_keys:Array(String)}, {team_calendars:Array(String)},
                        {default_calendar:String})) AS calendar,
    deskpulse_working_s(toUnixTimestamp64Milli(started_at), toUnixTimestamp64Milli(ended_at), calendar,
                        {working_calendars:Array(String)}, {working_starts:Array(Int64)},
                        {working_ends:Array(Int64)}) AS within_s
FROM rep_status_pieces(account = {account:String}, d_from = {from:Date}, d_to = {to:Date}, tz = {tz:String})
WHERE status = 'available' AND ({team:String} = '' OR team_id = {team:String})
