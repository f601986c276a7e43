-- The pieces every report repeats, written once as SQL functions (the dbt
-- "macros" of this project). ClickHouse expands them into the query before
-- planning, so the primary-key ranges on time and account still apply.
-- BI tools on ClickHouse can use them too.

-- deskpulse_in_dates(t, d_from, d_to, tz): instant t falls on a local date of
-- [d_from, d_to] (both inclusive) in time zone tz.
CREATE OR REPLACE FUNCTION deskpulse_in_dates {on_cluster} AS (t, d_from, d_to, tz) ->
    t >= toDateTime64(toString(d_from), 3, tz) AND t < toDateTime64(toString(d_to + 1), 3, tz);

-- deskpulse_filters(ticket properties..., wanted values...): every report
-- filter; an empty wanted value means "any".
CREATE OR REPLACE FUNCTION deskpulse_filters {on_cluster} AS
    (p_account, p_channel, p_priority, p_team, p_pipeline, p_category,
     w_account, w_channel, w_priority, w_team, w_pipeline, w_category) ->
    (w_account = '' OR p_account = w_account) AND (w_channel = '' OR p_channel = w_channel)
    AND (w_priority = '' OR p_priority = w_priority) AND (w_team = '' OR p_team = w_team)
    AND (w_pipeline = '' OR p_pipeline = w_pipeline) AND (w_category = '' OR p_category = w_category);

-- deskpulse_group(by, rep, team): the group column of "--by rep|team" ('' without a group).
CREATE OR REPLACE FUNCTION deskpulse_group {on_cluster} AS (by, rep, team) ->
    multiIf(by = 'rep', rep, by = 'team', team, '');
