-- deskpulse_bucket(t, freq, tz, d_from): the period column of every report:
-- deskpulse_period for day..year, and for freq 'total' (--view totals) the
-- first date of the range, so the whole range is one bucket.
CREATE OR REPLACE FUNCTION deskpulse_bucket {on_cluster} AS (t, freq, tz, d_from) ->
    if(freq = 'total', d_from, deskpulse_period(t, freq, tz));
