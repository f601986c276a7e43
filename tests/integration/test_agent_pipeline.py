"""Issue 9 through the real broker and worker: agent events -> conversation facts in ClickHouse and the
agent reports; knowledge gaps grouped, drilled into, dismissed through the API, and still dismissed after
a restart; a new question that fits a dismissed topic brings it back, marked new."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta

from tests.support.events import created, event
from tests.support.live import get, on_one_day
from tests.support.pipeline import encoded, produce
from tests.support.waiting import wait_until

# Half an hour ago, its 25 minutes of events on one UTC day: the reports below read one day (a handoff's close
# counts on the day it closed).
BASE = on_one_day(datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30), timedelta(minutes=25))


def at(minutes: float) -> str:
    return (BASE + timedelta(minutes=minutes)).isoformat(timespec="milliseconds")


def agent(kind: str, conversation: str, minutes: float, **fields) -> dict:
    return event(kind, at=at(minutes), conversation_id=conversation, **fields)


def post(url: str, body: dict) -> tuple[int, dict]:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


EVENTS = [
    # resolved by the agent, rated helpful
    agent("agent.conversation_started", "A1", 0, channel="chat"),
    agent("agent.answered", "A1", 1, question="where is my order"),
    agent("agent.resolved", "A1", 3),
    agent("agent.feedback", "A1", 4, helpful=True),
    agent("agent.conversation_closed", "A1", 5),
    # could not answer (twice, in other words), handed off; the ticket closes 20 minutes later
    agent("agent.conversation_started", "A2", 2, channel="messenger"),
    agent("agent.unanswered", "A2", 3, question="How do I reset my password?"),
    agent("agent.unanswered", "A2", 4, question="i forgot my pasword, how do i reset it"),
    {**created("AT2", at=at(5), channel="chat", team_id="support"), "account_id": "acme"},
    agent("agent.handed_off", "A2", 5, ticket_id="AT2", to_team_id="support"),
    event("ticket.updated", at=at(25), ticket_id="AT2", status="closed"),
    # an unrelated gap, and a conversation the agent never took part in
    agent("agent.conversation_started", "A3", 6, channel="chat"),
    agent("agent.unanswered", "A3", 7, question="Do you ship to Norway?"),
    agent("agent.conversation_started", "A4", 8, channel="chat"),
    agent("agent.conversation_closed", "A4", 9),
]


def _report(worker, name: str) -> list[dict]:
    status, body = get(f"{worker.web}/api/accounts/acme/reports/{name}?freq=day&from={BASE.date()}&to={BASE.date()}"
                       "&tz=UTC")
    assert status == 200, body
    return [dict(zip(body["columns"], row, strict=True)) for row in body["rows"]]


def test_agent_facts_reports_and_knowledge_gaps_end_to_end(stack, start_worker):
    worker = start_worker(stack)
    produce(stack, encoded(EVENTS))
    worker.wait_processed(len(EVENTS), timeout=60)

    rows = {(r["channel"]): r for r in _report(worker, "agent-conversations")}
    assert rows["chat"]["conversations"] == 3 and rows["chat"]["handled"] == 2
    assert rows["chat"]["resolved"] == 1 and rows["chat"]["avg_resolution_s"] == 180.0
    assert rows["chat"]["deflections"] == 1 and rows["chat"]["helpful_share"] == 1.0
    assert rows["messenger"]["handoffs"] == 1 and rows["messenger"]["resolved"] == 0
    [after] = _report(worker, "agent-after-handoff")
    assert after["handoffs"] == 1 and after["team_resolved_conversations"] == 1
    assert after["avg_handoff_to_close_s"] == 1200.0
    resolvers = {(r["resolver"], r["resolver_kind"]): r["resolved"] for r in _report(worker, "agent-vs-team")}
    assert resolvers == {("AI agent", "agent"): 1, ("(unassigned)", "rep"): 1}

    status, gaps = get(f"{worker.web}/api/accounts/acme/gaps")
    assert status == 200, gaps
    topics = {t["label"]: t for t in gaps["topics"]}
    assert gaps["questions"] == 3 and len(topics) == 2, topics
    [password] = [t for t in gaps["topics"] if t["questions"] == 2]
    status, drill = get(f"{worker.web}/api/accounts/acme/gaps/{password['topic_id']}")
    assert status == 200 and {q["ticket_id"] for q in drill["questions"]} == {"AT2"}
    assert {q["conversation_id"] for q in drill["questions"]} == {"A2"}

    # dismiss the topic: an event on the agent topic, stored like any other
    assert post(f"{worker.web}/api/accounts/acme/gaps-dismissals", {"topic_id": "nope"})[0] == 404
    assert post(f"{worker.web}/api/accounts/acme/gaps-dismissals", {"topic_id": password["topic_id"],
                                                                     "question_id": "x"})[0] == 400
    status, body = post(f"{worker.web}/api/accounts/acme/gaps-dismissals", {"topic_id": password["topic_id"]})
    assert status == 202, body

    def shown(w) -> set[str]:
        return {t["topic_id"] for t in get(f"{w.web}/api/accounts/acme/gaps")[1]["topics"]}

    wait_until(lambda: password["topic_id"] not in shown(worker), 30, "the dismissal to be stored")
    worker.stop()

    again = start_worker(stack)
    assert password["topic_id"] not in shown(again) and len(shown(again)) == 1  # the same ids after a restart
    later = (datetime.now(UTC) + timedelta(seconds=1)).isoformat(timespec="milliseconds")  # asked after the dismissal
    produce(stack, encoded([event("agent.unanswered", at=later, conversation_id="A5",
                                  question="how can I reset my password")]))
    wait_until(lambda: password["topic_id"] in shown(again), 30, "a new question in the dismissed topic")
    [back] = [t for t in get(f"{again.web}/api/accounts/acme/gaps")[1]["topics"]
              if t["topic_id"] == password["topic_id"]]
    assert back["new"] and back["questions"] == 1
    again.stop()
