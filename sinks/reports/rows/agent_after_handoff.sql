-- Rows behind agent-after-handoff: each conversation the AI agent handed
-- off in the range, with its ticket (a merged ticket: its primary). The team
-- resolved it when that ticket is closed now; the time from the handoff to
-- the ticket's final close, 24/7 and in the SLA hours of the ticket's team
-- now (deskpulse_working_s over the intervals the request passes).
SELECT
    account_id,
    deskpulse_bucket(handed_off_at, {freq:String}, {tz:String}, {from:Date}) AS period,
    deskpulse_group({by:String}, owner_id, team_id) AS group,
    conversation_id, channel, ticket_id, owner_id, team_id, handed_off_at, closed_at,
    closed_at IS NOT NULL AS team_resolved,
    if(team_resolved, greatest(0, dateDiff('millisecond', handed_off_at, closed_at)) / 1000, NULL)
        AS handoff_to_close_s,
    if(team_resolved,
       deskpulse_working_s(toUnixTimestamp64Milli(handed_off_at), toUnixTimestamp64Milli(assumeNotNull(closed_at)),
                           transform(team_id, {team_keys:Array(String)}, {team_calendars:Array(String)},
                                     {default_calendar:String}),
                           {working_calendars:Array(String)}, {working_starts:Array(Int64)},
                           {working_ends:Array(Int64)}), NULL) AS handoff_to_close_sla_s
FROM
(
    SELECT account_id, conversation_id, channel, resolving_ticket_id AS ticket_id,
           if(ticket_owner_id IS NULL OR ticket_owner_id = '', to_rep_id, ticket_owner_id) AS owner_id,
           if(ticket_team_id IS NULL OR ticket_team_id = '', to_team_id, ticket_team_id) AS team_id,
           assumeNotNull(handed_off_at) AS handed_off_at, ticket_closed_at AS closed_at
    FROM agent_conversations
    WHERE handed_off
      AND ({account:String} = '' OR account_id = {account:String})
      AND ({channel:String} = '' OR channel = {channel:String})
)
WHERE deskpulse_in_dates(handed_off_at, {from:Date}, {to:Date}, {tz:String})
  AND ({team:String} = '' OR team_id = {team:String})
