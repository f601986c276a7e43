-- agent_vs_team: conversations resolved per period, by the AI agent and by
-- each rep (resolver_kind tells them apart), from rows/agent_vs_team.sql.
SELECT account_id, period, resolver, resolver_kind, count() AS resolved
FROM report_rows
GROUP BY account_id, period, resolver, resolver_kind
ORDER BY account_id, period, resolved DESC, resolver
