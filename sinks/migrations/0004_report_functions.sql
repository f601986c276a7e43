-- deskpulse_period(t, freq, tz): the local period of instant t in time zone
-- tz, as the Date it starts on: freq 'day', 'week' (ISO, from Monday),
-- 'month', 'quarter', anything else a year. Every report buckets by it, and
-- BI tools on ClickHouse can too. (Functions are server-wide, not per database.)
CREATE OR REPLACE FUNCTION deskpulse_period {on_cluster} AS (t, freq, tz) -> multiIf(
    freq = 'day', toDate(t, tz),
    freq = 'week', toMonday(toTimeZone(t, tz)),
    freq = 'month', toStartOfMonth(toTimeZone(t, tz)),
    freq = 'quarter', toStartOfQuarter(toTimeZone(t, tz)),
    toStartOfYear(toTimeZone(t, tz))
);
