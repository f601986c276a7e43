-- time_to_first_response: average time from creation to the first rep reply
-- (bots and internal notes never count), 24/7 and in SLA hours (working time
-- of the calendar the ticket's SLA runs on), per period of the ticket's
-- creation in the account's time zone, per rep (ticket owner) or team.
-- Only tickets that have had their first response; merged and deleted
-- tickets are left out (ticket_facts_current).
-- The rows it sums are rows/time_to_first_response.sql, read here as report_rows.
SELECT
    account_id, period, group,
    count() AS tickets,
    round(avg(time_to_first_response_s), 1) AS avg_first_response_s,
    round(avg(time_to_first_response_sla_s), 1) AS avg_first_response_sla_s,
    round(quantileExactInclusive(0.5)(time_to_first_response_s), 1) AS median_first_response_s,  -- the true median (mean of the middle two)
    round(quantileExactInclusive(0.5)(time_to_first_response_sla_s), 1) AS median_first_response_sla_s
FROM report_rows
GROUP BY account_id, period, group
ORDER BY account_id, period, group
