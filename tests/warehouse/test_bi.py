"""Issue 8, the BI surface: the bi_* views match their documentation, every Grafana panel's SQL runs on
the real engine (chDB) and agrees with the reports, and the read-only users cannot see other accounts."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from datetime import date, datetime
from pathlib import Path

from hypothesis import given

from sinks.reports import bi_views, parameters, report_sql
from tests.warehouse.test_catalogue_reports import EXAMPLES, TZ, _store, histories

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "deploy/grafana/dashboards/deskpulse-reports.json"
USERS = ROOT / "deploy/clickhouse/users.xml"
FROM, TO = datetime(2026, 10, 1), datetime(2026, 12, 1)


def test_every_bi_view_has_the_documented_columns(clean_warehouse):
    for view, (_, documented) in bi_views().items():
        described = [row[0] for row in clean_warehouse.query(f"DESCRIBE {view}").result_rows]
        assert described == list(documented), view
    stored = {row[0] for row in clean_warehouse.query(
        "SELECT name FROM system.tables WHERE database = currentDatabase() AND name LIKE 'bi\\_%'").result_rows}
    assert stored == set(bi_views())


def panel_sql(raw: str) -> str:
    """A panel's SQL as Grafana's ClickHouse data source sends it: macros and variables filled in."""
    sql = re.sub(r"\$__timeFilter\((\w+)\)",
                 lambda m: f"{m[1]} >= toDateTime64('{FROM:%F %T}', 3) AND {m[1]} <= toDateTime64('{TO:%F %T}', 3)",
                 raw)
    sql = sql.replace("${account}", "acme").replace("${tz}", TZ)
    assert "$" not in sql, sql  # a macro the test does not know: teach panel_sql, or do not use it
    return sql


def _panels() -> list[dict]:
    return json.loads(DASHBOARD.read_text())["panels"]


@EXAMPLES
@given(histories())
def test_every_grafana_panel_runs_and_the_volume_panel_equals_the_report(clean_warehouse, tickets):
    _store(clean_warehouse, tickets)
    for panel in _panels():
        for target in panel["targets"]:
            sql = panel_sql(target["rawSql"])
            result = clean_warehouse.query(sql)
            columns = [row[0] for row in clean_warehouse.query(f"DESCRIBE ({sql})").result_rows]
            assert len(columns) >= 2, panel["title"]
            if panel["type"] == "timeseries":
                assert columns[0] == "time", panel["title"]
                assert [r[0] for r in result.result_rows] == sorted(r[0] for r in result.result_rows)
    volume = next(p for p in _panels() if p["title"] == "Tickets created per day")
    panel = {r[0].date(): r[1] for r in clean_warehouse.query(panel_sql(volume["targets"][0]["rawSql"])).result_rows}
    params = {**parameters(FROM.date(), date(2026, 11, 30), "day", TZ, account="acme"), "by": "none"}
    report = {r[1]: r[3] for r in clean_warehouse.query(report_sql("support-volume"), params).result_rows}
    assert panel == report


def test_the_template_variables_are_the_only_user_input():
    dashboard = json.loads(DASHBOARD.read_text())
    names = {v["name"] for v in dashboard["templating"]["list"]}
    for panel in _panels():
        used = set(re.findall(r"\$\{(\w+)\}", panel["targets"][0]["rawSql"]))
        assert used <= names, panel["title"]
        assert panel["datasource"]["uid"] == "deskpulse-clickhouse"


def test_bi_users_are_read_only_and_a_per_account_user_has_a_row_policy_on_every_account_table(clean_warehouse):
    users = ET.parse(USERS).getroot()
    assert users.findtext("profiles/bi_readonly/readonly") == "1"
    for name in ("bi", "bi_acme"):
        user = users.find(f"users/{name}")
        assert user.findtext("profile") == "bi_readonly" and user.findtext("access_management") == "0"
        assert user.find("password").get("from_env"), name
        assert "::/0" not in ET.tostring(user, encoding="unicode")
    policies = {table.tag: table.findtext("filter") for table in users.find("users/bi_acme/databases/deskpulse")}
    tables = {row[0] for row in clean_warehouse.query(
        "SELECT DISTINCT table FROM system.columns WHERE database = currentDatabase() AND name = 'account_id' "
        "AND table IN (SELECT name FROM system.tables WHERE database = currentDatabase() AND engine LIKE '%MergeTree')"
    ).result_rows}
    assert tables and all(policies.get(t) == "account_id = 'acme'" for t in tables), tables - set(policies)
    assert policies["dead_letters"] == "0"  # raw bytes of any account
