"""The live dashboard in headless Chromium against a real worker, broker and ClickHouse."""

from __future__ import annotations

import os
import shutil
from datetime import timedelta

import pytest

from tests.support.events import created
from tests.support.live import get, stamp, todays_events
from tests.support.pipeline import encoded, produce, worker_ready
from tests.support.waiting import wait_until


@pytest.mark.skipif(not shutil.which("chromedriver"), reason="make test installs Debian's chromium-driver")
def test_the_dashboard_shows_the_api_figures_and_follows_new_events(stack, start_worker, tmp_path):
    from selenium import webdriver
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By

    worker = start_worker(stack)
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1000"):
        options.add_argument(arg)
    browser = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
    try:
        wait_until(lambda: worker_ready(worker), 60, "a ready worker")
        produce(stack, encoded(todays_events("acme", "P")))
        worker.wait_processed(9, timeout=60)
        browser.get(f"{worker.web}/dashboard/acme")

        def shown(name: str) -> str:
            # the page re-renders every second: an element found just before a render is stale, look again
            for _ in range(5):
                try:
                    return browser.find_element(By.CSS_SELECTOR, f'[data-figure="{name}"] .value').get_attribute(
                        "data-value")
                except StaleElementReferenceException:
                    continue
            raise AssertionError(f"the figure {name} kept being re-rendered")

        wait_until(lambda: shown("new_tickets") == "2", 10, "the page to show today's figures")
        _, api = get(f"{worker.web}/api/accounts/acme/summary")
        for name in ("new_tickets", "open_tickets", "closed", "messages_received", "avg_first_response_s"):
            assert float(shown(name)) == float(api["figures"][name]["today"]), name
        # click-through: the tickets behind "open tickets", the subject escaped as text
        browser.find_element(By.CSS_SELECTOR, '[data-figure="new_tickets"]').click()
        wait_until(lambda: "printer" in browser.find_element(By.ID, "ticket-list").text, 10, "the ticket list")
        assert browser.find_elements(By.CSS_SELECTOR, "#ticket-list script") == []
        assert "<script>alert('x')</script> printer" in browser.find_element(By.ID, "ticket-list").text
        # Tests never write tracked files: `make screenshots` sets the path that refreshes docs/dashboard.png.
        browser.save_screenshot(os.environ.get("DESKPULSE_SCREENSHOT") or str(tmp_path / "dashboard.png"))
        # new events: the page follows without a reload
        produce(stack, encoded([{**created("P3", at=stamp(timedelta(seconds=200))), "account_id": "acme"}]))
        wait_until(lambda: shown("new_tickets") == "3", 10, "the page to follow a new ticket")
    finally:
        browser.quit()
        worker.stop()
