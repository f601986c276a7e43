"""Knowledge gaps in the worker: the account's unanswered questions grouped into topics, with dismissals.

Reads the stored questions through the read-only ad-hoc session (never the
ingest connection), and groups them with the same core and method as
`deskpulse gaps group` (streams/core/gap_topics.py). A grouping per account
is kept and extended while new questions come after the ones it holds; when
the window slides or a late question lands in the middle, it is rebuilt from
the stored questions in order, which gives the same topics and ids. Vectors
are cached per question (bounded), so a rebuild costs grouping, not embedding.

Dismissals are `agent.gap_dismissed` events on the agent topic, stored like
every event, so they survive restarts and every worker reads them. A topic
dismissed at time T hides its questions up to T: a later question that fits
it shows the topic again, marked new. A dismissed question stays hidden.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from schemas.events import GAPS_CONVERSATION
from sinks.gaps import sql
from streams.core.gap_topics import DEFAULT_THRESHOLD, TopicGrouper
from streams.core.question_vectors import MAX_QUESTION_CHARS, METHODS
from streams.worker.adhoc_sql import AdhocSql

METHOD = "wordllama"  # docs/decisions/0003-knowledge-gap-grouping.md
WINDOW_DAYS = 90
MAX_QUESTIONS = 20_000  # per account, the most recent
MAX_VECTORS = 100_000  # cached question vectors, all accounts (~100 MB)
MAX_ACCOUNTS = 20  # groupings kept (each up to MAX_QUESTIONS questions and their vectors, ~25 MB)


@dataclass
class Question:
    question_id: str
    at: datetime
    text: str
    conversation_id: str


@dataclass
class Grouping:
    grouper: TopicGrouper
    questions: list[Question] = field(default_factory=list)


class KnowledgeGaps:
    def __init__(self, adhoc: AdhocSql, method: str = METHOD, threshold: float = DEFAULT_THRESHOLD) -> None:
        self.adhoc = adhoc
        self.vectorize, self.dim = METHODS[method]
        self.threshold = threshold
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._groupings: OrderedDict[str, Grouping] = OrderedDict()
        self._locks: dict[str, asyncio.Lock] = {}

    async def _rows(self, name: str, parameters: dict) -> list[list]:
        return (await self.adhoc.run(sql(name), parameters))["rows"]

    async def grouping(self, account: str) -> Grouping:
        rows = await self._rows("questions", {"account": account, "days": WINDOW_DAYS, "limit": MAX_QUESTIONS})
        questions = [Question(r[0], _utc(r[1]), r[2], r[3]) for r in rows]
        lock = self._locks.setdefault(account, asyncio.Lock())
        async with lock:  # no I/O under it: grouping is CPU work, in a thread
            return await asyncio.to_thread(self._group, account, questions)

    def _group(self, account: str, questions: list[Question]) -> Grouping:
        held = self._groupings.get(account)
        ids = [q.question_id for q in questions]
        if held is None or [q.question_id for q in held.questions] != ids[:len(held.questions)]:
            held = Grouping(TopicGrouper(self.dim, self.threshold))
        new = questions[len(held.questions):]
        if new:
            held.grouper.add([q.question_id for q in new], self._embed(new))
            held.questions += new
        self._groupings[account] = held
        self._groupings.move_to_end(account)
        while len(self._groupings) > MAX_ACCOUNTS:
            self._groupings.popitem(last=False)
        return held

    def _embed(self, questions: list[Question]) -> np.ndarray:
        missing = [q for q in questions if q.question_id not in self._vectors]
        for start in range(0, len(missing), 1000):
            chunk = missing[start:start + 1000]
            for q, v in zip(chunk, self.vectorize([q.text[:MAX_QUESTION_CHARS] for q in chunk]), strict=True):
                self._vectors[q.question_id] = v
        out = np.stack([self._vectors[q.question_id] for q in questions])
        while len(self._vectors) > MAX_VECTORS:
            self._vectors.popitem(last=False)
        return out

    async def _dismissals(self, account: str) -> tuple[dict[str, datetime], set[str]]:
        topics: dict[str, datetime] = {}
        questions: set[str] = set()
        for at, topic_id, question_id in await self._rows("dismissals", {"account": account}):
            if topic_id:
                topics[topic_id] = max(topics.get(topic_id, datetime.min.replace(tzinfo=UTC)), _utc(at))
            if question_id:
                questions.add(question_id)
        return topics, questions

    async def _visible(self, account: str, start: date, end: date, tz: str):
        grouping = await self.grouping(account)
        dismissed_topics, dismissed_questions = await self._dismissals(account)
        zone = ZoneInfo(tz)
        lo = datetime.combine(start, datetime.min.time(), zone)
        hi = datetime.combine(end + timedelta(days=1), datetime.min.time(), zone)
        by_topic: dict[str, list[Question]] = {}
        for q in grouping.questions:
            topic = grouping.grouper.topic_of[q.question_id]
            dismissed = dismissed_topics.get(topic)
            if lo <= q.at < hi and q.question_id not in dismissed_questions and (dismissed is None or q.at > dismissed):
                by_topic.setdefault(topic, []).append(q)
        return grouping, by_topic, dismissed_topics

    async def topics(self, account: str, start: date, end: date, tz: str) -> dict:
        grouping, by_topic, dismissed = await self._visible(account, start, end, tz)
        texts = [q.text for q in grouping.questions]
        labels = {t.topic_id: texts[grouping.grouper.label_index(t, texts)]
                  for t in grouping.grouper.topics if t.topic_id in by_topic}
        topics = [{"topic_id": topic, "label": labels[topic], "questions": len(qs),
                   "last_at": max(q.at for q in qs).isoformat(),
                   "new": topic in dismissed, "dismissed_at": dismissed[topic].isoformat() if topic in dismissed
                   else None} for topic, qs in by_topic.items()]
        topics.sort(key=lambda t: t["last_at"], reverse=True)
        topics.sort(key=lambda t: t["questions"], reverse=True)  # the most asked first, then the most recent
        return {"topics": topics, "questions": sum(t["questions"] for t in topics),
                "grouped": len(grouping.questions), "method": METHOD}

    async def questions(self, account: str, topic_id: str, start: date, end: date, tz: str) -> dict | None:
        """The questions of one topic (None: no such topic in the range), each with its conversation and
        the ticket it was handed off with."""
        _, by_topic, _ = await self._visible(account, start, end, tz)
        if topic_id not in by_topic:
            return None
        qs = sorted(by_topic[topic_id], key=lambda q: q.at, reverse=True)[:500]
        tickets = dict(await self._rows("tickets", {"account": account,
                                                    "conversations": sorted({q.conversation_id for q in qs})}))
        return {"topic_id": topic_id, "questions": [
            {"question_id": q.question_id, "question": q.text, "at": q.at.isoformat(),
             "conversation_id": q.conversation_id, "ticket_id": tickets.get(q.conversation_id, "")} for q in qs]}

    async def dismissal(self, account: str, topic_id: str | None, question_id: str | None) -> dict | None:
        """The event that dismisses a topic or a question the account has (None: it has no such one)."""
        grouping = self._groupings.get(account) or await self.grouping(account)
        known = set(grouping.grouper.topic_of.values()) if topic_id else set(grouping.grouper.topic_of)
        if (topic_id or question_id) not in known:
            return None
        return {"event_id": f"gd-{uuid.uuid4().hex}", "type": "agent.gap_dismissed", "account_id": account,
                "occurred_at": datetime.now(UTC).isoformat(timespec="milliseconds"), "schema_version": 1,
                "conversation_id": GAPS_CONVERSATION, **({"topic_id": topic_id} if topic_id else
                                                         {"question_id": question_id})}


def _utc(text: str) -> datetime:
    at = datetime.fromisoformat(text)
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
