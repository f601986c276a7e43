"""Send simulated events to the broker (kafka-python), fast or in real time."""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from kafka import KafkaProducer

from deskpulse.simulator.corrupt import corrupt, pick
from deskpulse.simulator.model import Simulation
from schemas.topics import TOPIC_OF_TYPE
from streams.worker.settings import Settings

# Events a simulated ticket produces on average; used to turn --rate into an
# arrival intensity for live traffic.
EVENTS_PER_TICKET = 12.0


@dataclass
class Produced:
    events: int = 0
    bad: int = 0


def route(event: dict) -> tuple[str, bytes]:
    """(logical topic, key) of a well-formed event."""
    spec = TOPIC_OF_TYPE[event["type"]]
    return spec.name, str(event[spec.key_field]).encode()


def make_producer(bootstrap: str) -> KafkaProducer:
    return KafkaProducer(bootstrap_servers=bootstrap, linger_ms=20, batch_size=512 * 1024, acks=1,
                         max_request_size=8 * 1024 * 1024, retries=5)


def send_all(producer: KafkaProducer, settings: Settings, events: Iterable[dict], *, bad_ratio: float = 0.0,
             rng: random.Random | None = None, stats: Produced | None = None) -> Produced:
    stats = stats or Produced()
    rng = rng or random.Random(0)
    for event in events:
        topic, key = route(event)
        if bad_ratio and rng.random() < bad_ratio:
            value = corrupt(event, pick(rng))
            stats.bad += 1
        else:
            value = json.dumps(event, separators=(",", ":")).encode()
        producer.send(settings.topic(topic), key=key, value=value)
        stats.events += 1
    return stats


def history(seed: int, start: datetime, days: float, intensity: float = 1.0) -> tuple[Simulation, Iterator[dict]]:
    sim = Simulation(seed, start, intensity=intensity)
    return sim, sim.events(start + timedelta(days=days))


def live(sim: Simulation, stop: threading.Event, rate: float | None = None) -> Iterator[dict]:
    """Go on from `sim.now` in real time: events are released as the wall clock reaches them."""
    if rate:
        # Calibrated on the arrival rate of this hour of this weekday; the
        # stream reaches `rate` once replies to the first tickets come in.
        per_hour = sum(sim.arrival_rate(a) for a in sim.accounts)
        sim.set_intensity(max(rate / (EVENTS_PER_TICKET * per_hour / 3600), 0.01))
    window_start, in_window = time.monotonic(), 0
    while not stop.is_set():
        now = datetime.now(UTC)
        for event in sim.events(now):
            in_window += 1
            yield event
        elapsed = time.monotonic() - window_start
        if rate and elapsed >= 5.0:
            # Follow-ups (replies, closes) arrive minutes after a ticket opens,
            # so the calibration alone undershoots at first: steer toward `rate`.
            actual = in_window / elapsed
            sim.set_intensity(sim.intensity * min(max(rate / max(actual, 0.1), 0.5), 2.0))
            window_start, in_window = time.monotonic(), 0
        time.sleep(0.05)
