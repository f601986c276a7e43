"""`deskpulse gaps group FILE` and `make bench-gaps`: the knowledge-gap grouping the worker uses, on a file of
questions and on the labelled set built from the simulator's vocabulary (deskpulse/simulator/questions.py)."""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable

from streams.core.gap_topics import DEFAULT_THRESHOLD, TopicGrouper
from streams.core.question_vectors import MAX_QUESTION_CHARS, METHODS

METHOD = "wordllama"  # the worker's choice: docs/decisions/0003-knowledge-gap-grouping.md
MAX_LINES = 200_000
THRESHOLDS = tuple(round(0.25 + 0.05 * i, 2) for i in range(11))  # 0.25 .. 0.75


class GapsError(Exception):
    """One line for the user."""


def group(questions: list[str], method: str = METHOD, threshold: float = DEFAULT_THRESHOLD
          ) -> tuple[TopicGrouper, list[str]]:
    """Group questions in the order given; returns the grouper and each question's topic id."""
    vectorize, dim = METHODS[method]
    grouper = TopicGrouper(dim, threshold)
    ids = [f"line-{i + 1}" for i in range(len(questions))]
    for start in range(0, len(questions), 1000):
        grouper.add(ids[start:start + 1000], vectorize(questions[start:start + 1000]))
    return grouper, [grouper.topic_of[q] for q in ids]


def read_questions(lines: Iterable[str]) -> list[str]:
    out = []
    for n, line in enumerate(lines, 1):
        if n > MAX_LINES:
            raise GapsError(f"more than {MAX_LINES:,} lines: split the file")
        text = " ".join(line.split())[:MAX_QUESTION_CHARS]
        if text:
            out.append(text)
    return out


def group_lines(lines: Iterable[str]) -> list[str]:
    """`TOPIC<TAB>QUESTION` per question: TOPIC is the topic's id and its label (the question nearest its centre)."""
    questions = read_questions(lines)
    if not questions:
        return []
    grouper, topics = group(questions)
    labels = {t.topic_id: questions[grouper.label_index(t, questions)] for t in grouper.topics}
    return [f"{t} {labels[t][:80]}\t{q}" for t, q in zip(topics, questions, strict=True)]


def purity(labels: list[str], topics: list[str]) -> float:
    """The share of questions whose topic's most common intent is their own."""
    by_topic: dict[str, Counter] = defaultdict(Counter)
    for label, topic in zip(labels, topics, strict=True):
        by_topic[topic][label] += 1
    return sum(c.most_common(1)[0][1] for c in by_topic.values()) / len(labels)


def score(method: str, threshold: float, data: list[tuple[str, str]]) -> dict:
    from sklearn.metrics import adjusted_rand_score

    labels, questions = [d[0] for d in data], [d[1] for d in data]
    started = time.perf_counter()
    grouper, topics = group(questions, method, threshold)
    elapsed = time.perf_counter() - started
    return {"questions": len(questions), "topics": len(grouper.topics), "intents": len(set(labels)),
            "ari": adjusted_rand_score(labels, topics), "purity": purity(labels, topics),
            "per_question_ms": elapsed * 1000 / len(questions)}


def run_bench_gaps(echo: Callable[[str], None], dev_seed: int = 1, test_seed: int = 7) -> int:
    """Each method's threshold is chosen on a development set (the best adjusted Rand index among thresholds
    whose purity is at least 0.85); all are then scored on a test set drawn with another seed."""
    from deskpulse.simulator.questions import labelled

    dev, test = labelled(dev_seed), labelled(test_seed)
    for method in METHODS:
        METHODS[method][0](["warm up"])  # loading the model is not per question
    chosen = {}
    for method in METHODS:
        results = {t: score(method, t, dev) for t in THRESHOLDS}
        pure = {t: r for t, r in results.items() if r["purity"] >= 0.85} or results
        chosen[method] = max(pure, key=lambda t: pure[t]["ari"])
        echo(f"dev ({len(dev)} questions): {method}: threshold {chosen[method]} "
             f"(ari {pure[chosen[method]]['ari']:.3f}, purity {pure[chosen[method]]['purity']:.3f})")
    for method in METHODS:
        r = score(method, chosen[method], test)
        echo(f"test: {method} threshold={chosen[method]} questions={r['questions']} intents={r['intents']} "
             f"topics={r['topics']} ari={r['ari']:.3f} purity={r['purity']:.3f} "
             f"per_question={r['per_question_ms']:.3f} ms")
    r = score(METHOD, DEFAULT_THRESHOLD, test)
    echo(f"the worker's grouping: {METHOD} at threshold {DEFAULT_THRESHOLD} "
         f"(dev choice {chosen[METHOD]}), on the test set of {r['intents']} intents:")
    echo(f"gaps: questions={r['questions']} topics={r['topics']} ari={r['ari']:.3f} purity={r['purity']:.3f} "
         f"per_question={r['per_question_ms']:.3f} ms")
    return 0
