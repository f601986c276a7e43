"""Issue 9: the dashboard's "AI agent" tab in headless Chromium against a real worker, broker and ClickHouse:
its numbers are the API's, question text is text, and a dismissal made on the page survives a restart."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, time, timedelta

import pytest

from tests.support.browser import chromium
from tests.support.events import created, event
from tests.support.live import clear_of_midnight, get
from tests.support.pipeline import encoded, produce
from tests.support.waiting import wait_until

HOSTILE = '<img src=x onerror="window.pwned=1"> how do I export my invoices'


def _events() -> list[dict]:
    # The page shows today by the wall clock and counts no future start: every event lies between today's UTC
    # midnight and now, five steps apart, a minute each unless less than 20 minutes of today have passed (and
    # none is made in the last two minutes of a day).
    clear_of_midnight(after=timedelta(seconds=5))
    now = datetime.now(UTC)
    midnight = datetime.combine(now.date(), time(), UTC)
    base = max(now.replace(microsecond=0) - timedelta(minutes=20), midnight)
    step = min(timedelta(minutes=1), (now - base) / 5)

    def at(steps: float) -> str:
        return (base + step * steps).isoformat(timespec="milliseconds")

    def agent(kind, conversation, steps, **fields):
        return event(kind, at=at(steps), conversation_id=conversation, **fields)

    return [
        agent("agent.conversation_started", "B1", 0, channel="chat"),
        agent("agent.answered", "B1", 1, question="where is my order"),
        agent("agent.resolved", "B1", 2),
        agent("agent.feedback", "B1", 3, helpful=False),
        agent("agent.conversation_closed", "B1", 4),
        agent("agent.conversation_started", "B2", 1, channel="chat"),
        agent("agent.unanswered", "B2", 2, question=HOSTILE),
        agent("agent.unanswered", "B2", 3, question="Do you ship to Norway?"),
        {**created("BT2", at=at(4), channel="chat", team_id="support"), "account_id": "acme"},
        agent("agent.handed_off", "B2", 4, ticket_id="BT2", to_team_id="support"),
    ]


@pytest.mark.skipif(not shutil.which("chromedriver"), reason="make test installs Debian's chromium-driver")
def test_the_agent_tab_shows_the_api_numbers_and_a_dismissal_survives_a_restart(stack, start_worker):
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By

    events = _events()
    worker = start_worker(stack)
    produce(stack, encoded(events))
    worker.wait_processed(len(events), timeout=60)
    browser = chromium(1400, 1200)

    def shown(name: str) -> str | None:
        for _ in range(5):
            try:
                found = browser.find_elements(By.CSS_SELECTOR, f'#agent-day [data-agent-figure="{name}"] .value')
                return found[0].get_attribute("data-value") if found else None
            except StaleElementReferenceException:
                continue
        return None

    def topics_text() -> str:
        for _ in range(5):
            try:
                return browser.find_element(By.ID, "gap-topics").text
            except StaleElementReferenceException:
                continue
        return ""

    try:
        browser.get(f"{worker.web}/dashboard/acme")
        browser.find_element(By.ID, "tab-agent").click()
        wait_until(lambda: shown("conversations") == "2", 20, "the agent tab's figures")
        status, api = get(f"{worker.web}/api/accounts/acme/reports/agent-day")
        assert status == 200, api
        [row] = [dict(zip(api["columns"], r, strict=True)) for r in api["rows"]]
        for name in ("conversations", "handled", "resolved", "deflections", "handoffs", "helpful_share"):
            value = shown(name)
            assert (value == "" if row[name] is None else float(value) == float(row[name])), name
        assert row["handoffs"] == 1 and row["helpful_share"] == 0.0
        # the knowledge gaps: the hostile question is text, never markup
        wait_until(lambda: "export my invoices" in topics_text(), 20, "the knowledge gaps")
        assert browser.find_elements(By.CSS_SELECTOR, "#agent-view img") == []
        assert browser.execute_script("return window.pwned === undefined")
        assert HOSTILE in topics_text()
        # drill into the topic: its question, conversation and ticket
        browser.find_element(By.XPATH, "//table[@id='gap-topics']//tr[contains(., 'Norway')]").click()
        wait_until(lambda: "BT2" in browser.find_element(By.ID, "agent-list").text, 20, "the topic's questions")
        # dismiss the Norway topic on the page
        norway = browser.find_element(By.XPATH, "//table[@id='gap-topics']//tr[contains(., 'Norway')]//button")
        topic_id = norway.get_attribute("data-topic")
        norway.click()
        wait_until(lambda: topic_id not in {t["topic_id"] for t in get(
            f"{worker.web}/api/accounts/acme/gaps")[1]["topics"]}, 30, "the dismissal to be stored")
        assert [e for e in browser.get_log("browser") if e["level"] == "SEVERE" and "favicon" not in e["message"]] == []
    finally:
        browser.quit()
        worker.stop()

    again = start_worker(stack)
    browser = chromium(1400, 1200)
    try:
        browser.get(f"{again.web}/dashboard/acme#agent")
        wait_until(lambda: "export my invoices" in topics_text(), 30, "the knowledge gaps after a restart")
        assert "Norway" not in topics_text()
    finally:
        browser.quit()
        again.stop()
