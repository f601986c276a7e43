"""Knowledge gaps: questions the AI agent could not answer, grouped into topics of similar questions (pure).

Online leader clustering over unit vectors (streams/core/question_vectors.py
makes them): a question joins the topic whose centroid is nearest if the
cosine similarity reaches the threshold, else it starts a topic. A topic's
id comes from the question that started it, so the same questions in the
same order always give the same topics and ids (a restarted worker regroups
the stored questions and shows the ids it showed before). `regroup` is the
periodic tidy-up: every question moves to its nearest centroid, centroids
are recomputed, and the ids stay those of the topics that carry on; only an
emptied topic disappears.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np

DEFAULT_THRESHOLD = 0.45  # chosen on a development set: docs/decisions/0003-knowledge-gap-grouping.md
REGROUP_EVERY = 500
LABEL_SLACK = 0.08  # how much less typical than the most typical question a label may be


def topic_id(seed_question_id: str) -> str:
    """A short id for the topic a question started: stable, and not guessable from nothing."""
    return "g" + hashlib.sha256(seed_question_id.encode()).hexdigest()[:10]


@dataclass
class Topic:
    topic_id: str
    members: list[int] = field(default_factory=list)  # indices into TopicGrouper.ids


class TopicGrouper:
    def __init__(self, dim: int, threshold: float = DEFAULT_THRESHOLD, regroup_every: int = REGROUP_EVERY) -> None:
        self.threshold = threshold
        self.regroup_every = regroup_every
        self.ids: list[str] = []  # question ids in arrival order
        self._vectors = np.zeros((64, dim), dtype=np.float32)  # grown by doubling; the first len(ids) rows used
        self.topics: list[Topic] = []
        self._sums = np.zeros((0, dim), dtype=np.float32)  # per topic: sum of its members' vectors
        self._centroids = np.zeros((0, dim), dtype=np.float32)  # unit length
        self.topic_of: dict[str, str] = {}  # question id -> topic id

    @property
    def vectors(self) -> np.ndarray:
        return self._vectors[:len(self.ids)]

    def add(self, question_ids: list[str], vectors: np.ndarray) -> list[str]:
        """Group new questions (rows of unit `vectors`) one by one in order; returns each one's topic id. A
        question id seen before keeps its topic. Every `regroup_every` questions the topics are tidied
        (`regroup`): at fixed counts, so how the questions were batched never changes the result."""
        for qid, v in zip(question_ids, vectors, strict=True):
            if qid in self.topic_of:
                continue
            index = len(self.ids)
            if index == len(self._vectors):
                self._vectors = np.vstack([self._vectors, np.zeros_like(self._vectors)])
            self._vectors[index] = v
            self.ids.append(qid)
            best = -1
            if self.topics:
                similarity = self._centroids @ v
                best = int(np.argmax(similarity))
                if similarity[best] < self.threshold:
                    best = -1
            if best < 0:
                self.topics.append(Topic(topic_id(qid)))
                self._sums = np.vstack([self._sums, v[None, :]])
                self._centroids = np.vstack([self._centroids, _unit(v)[None, :]])
                best = len(self.topics) - 1
            else:
                self._sums[best] += v
                self._centroids[best] = _unit(self._sums[best])
            self.topics[best].members.append(index)
            self.topic_of[qid] = self.topics[best].topic_id
            if self.regroup_every and len(self.ids) % self.regroup_every == 0:
                self.regroup()
        return [self.topic_of[q] for q in question_ids]

    def regroup(self, rounds: int = 2) -> int:
        """Move every question to its nearest centroid (k-means rounds seeded by the current topics); topics
        keep their ids, emptied ones go. Returns how many questions changed topic."""
        moved = 0
        for _ in range(rounds):
            if not self.topics:
                return moved
            nearest = np.argmax(self.vectors @ self._centroids.T, axis=1)
            members: list[list[int]] = [[] for _ in self.topics]
            for index, k in enumerate(nearest):
                members[int(k)].append(index)
            kept = [k for k, m in enumerate(members) if m]
            before = dict(self.topic_of)
            self.topics = [Topic(self.topics[k].topic_id, members[k]) for k in kept]
            self._sums = np.stack([self.vectors[members[k]].sum(axis=0) for k in kept])
            self._centroids = np.stack([_unit(s) for s in self._sums])
            self.topic_of = {self.ids[i]: t.topic_id for t in self.topics for i in t.members}
            changed = sum(before[q] != self.topic_of[q] for q in self.ids)
            moved += changed
            if not changed:
                break
        return moved

    def label_index(self, topic: Topic, texts: list[str] | None = None) -> int:
        """The member that best stands for the topic: the nearest to its centroid or, given the questions'
        `texts` (in arrival order), the shortest of those almost as near (greetings and context make a
        question longer, not more typical)."""
        k = self.topics.index(topic)
        members = topic.members
        similarity = self.vectors[members] @ self._centroids[k]
        if texts is None:
            return members[int(np.argmax(similarity))]
        near = [m for m, s in zip(members, similarity, strict=True) if s >= similarity.max() - LABEL_SLACK]
        return min(near, key=lambda m: (len(texts[m]), m))


def _unit(v: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(v))
    return v / norm if norm > 0 else v
