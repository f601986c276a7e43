"""The reports page in headless Chromium against a real worker, broker and ClickHouse (issue 8): the chart's
numbers equal the API's, the CSV link gives the rows behind the report, a row or a bar drills down to the
same tickets as the API."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import urllib.request

import pytest

from deskpulse.account_config import example
from tests.support.browser import chromium
from tests.support.live import todays_events
from tests.support.pipeline import config_applied, encoded, produce, publish_config, worker_ready
from tests.support.waiting import wait_until


def _api(worker, name: str, query: str) -> dict:
    with urllib.request.urlopen(f"{worker.web}/api/accounts/acme/reports/{name}?{query}", timeout=30) as answer:
        return json.loads(answer.read())


@pytest.mark.skipif(not shutil.which("chromedriver"), reason="make test installs Debian's chromium-driver")
def test_the_reports_page_charts_the_api_exports_the_rows_and_drills_down(stack, start_worker, tmp_path):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    publish_config(stack, example("acme"))  # SLA policies, so the SLA report has clocks
    worker = start_worker(stack)
    browser = chromium(1280, 1000)
    try:
        wait_until(lambda: worker_ready(worker) and config_applied(worker, "acme"), 60, "a ready worker")
        events = todays_events("acme", "P") + todays_events("acme", "Q")
        produce(stack, encoded(events))
        worker.wait_processed(len(events), timeout=60)
        wait_until(lambda: _api(worker, "support-volume", "freq=day")["rows"], 30, "the tickets in the store")

        browser.get(f"{worker.web}/reports/acme?report=support-volume&freq=day&by=team")
        wait_until(lambda: browser.find_element(By.TAG_NAME, "body").get_attribute("data-ready") == "true", 20,
                   "the page to load the catalogue and the first report")
        assert browser.find_elements(By.CSS_SELECTOR, "#chart canvas"), "uPlot drew nothing"
        errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
        assert errors == [], errors  # no script error, nothing the CSP blocked

        # the chart's numbers are the API's, one series per team
        chart = json.loads(browser.find_element(By.ID, "chart").get_attribute("data-series"))
        api = _api(worker, "support-volume", "freq=day&by=team")
        cols = api["columns"]
        expected = {(str(r[cols.index("period")]), r[cols.index("group")]): r[cols.index("tickets")]
                    for r in api["rows"]}
        drawn = {(x, s["name"].split(" · ")[1]): v for s in chart["series"] for x, v in zip(chart["xs"], s["values"],
                                                                                               strict=True)
                 if v is not None}
        assert drawn == expected and sum(drawn.values()) == 4

        # the CSV link gives the rows behind the report (rows=true, the same as `deskpulse report --rows`)
        href = browser.find_element(By.ID, "csv").get_attribute("href")
        with urllib.request.urlopen(href, timeout=30) as answer:
            exported = list(csv.DictReader(io.StringIO(answer.read().decode())))
        behind = _api(worker, "support-volume", "freq=day&by=team&rows=true")
        assert len(exported) == len(behind["rows"]) == 4
        assert {r["ticket_id"] for r in exported} == {r[behind["columns"].index("ticket_id")] for r in behind["rows"]}

        # a table row drills down to the same tickets as the API
        first = dict(zip(cols, api["rows"][0], strict=True))
        browser.find_element(By.CSS_SELECTOR, "#report-table tbody tr").click()
        wait_until(lambda: "behind" in browser.find_element(By.ID, "drill-title").text, 10, "the drill-down")
        shown = {td.text for td in browser.find_elements(By.CSS_SELECTOR, "#drill tbody tr td:nth-child(4)")}
        drilled = _api(worker, "support-volume",
                       f"freq=day&by=team&rows=true&only.period={first['period']}&only.group={first['group']}")
        assert shown == {r[drilled["columns"].index("ticket_id")] for r in drilled["rows"]} and shown

        # stacked on time / late for the SLA report; a click on the bar lists the clocks behind it
        Select(browser.find_element(By.ID, "report")).select_by_value("sla-status")
        wait_until(lambda: "on_time" in (browser.find_element(By.ID, "chart").get_attribute("data-series") or ""),
                   10, "the SLA chart")
        chart = json.loads(browser.find_element(By.ID, "chart").get_attribute("data-series"))
        sla = _api(worker, "sla-status", "freq=week")
        sc = sla["columns"]
        assert [s["name"] for s in chart["series"]] == ["on_time", "late"]
        for series in chart["series"]:
            assert sum(series["values"]) == sum(r[sc.index(series["name"])] for r in sla["rows"])
        canvas = browser.find_element(By.CSS_SELECTOR, "#chart .u-over")
        ActionChains(browser).move_to_element(canvas).click().perform()
        wait_until(lambda: "behind period" in browser.find_element(By.ID, "drill-title").text, 10, "the bar's rows")
        rows = browser.find_elements(By.CSS_SELECTOR, "#drill tbody tr")
        assert len(rows) == sum(r[sc.index("on_time")] + r[sc.index("late")] for r in sla["rows"])
        # Tests never write tracked files: `make screenshots` sets the path that refreshes docs/reports.png.
        browser.save_screenshot(os.environ.get("DESKPULSE_REPORTS_SCREENSHOT") or str(tmp_path / "reports.png"))
    finally:
        browser.quit()
        worker.stop()
