"""Which event types travel on which topic, and what keys them (SPEC §2)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TopicSpec:
    name: str  # logical name; the broker name is prefix + name
    key_field: str
    event_types: frozenset[str]
    compacted: bool = False


TOPICS: tuple[TopicSpec, ...] = (
    TopicSpec("tickets", "ticket_id",
              frozenset({"ticket.created", "ticket.updated", "ticket.merged", "ticket.deleted"})),
    TopicSpec("messages", "ticket_id", frozenset({"message.created"})),
    TopicSpec("feedback", "ticket_id", frozenset({"feedback.submitted"})),
    TopicSpec("availability", "rep_id", frozenset({"rep.status_changed"})),
    TopicSpec("calls", "call_id", frozenset({"call.ended"})),
    TopicSpec(
        "agent",
        "conversation_id",
        frozenset(
            {
                "agent.conversation_started",
                "agent.answered",
                "agent.unanswered",
                "agent.handed_off",
                "agent.resolved",
                "agent.feedback",
                "agent.conversation_closed",
                "agent.gap_dismissed",
            }
        ),
    ),
    TopicSpec("config", "account_id", frozenset({"config.updated"}), compacted=True),
)

BY_NAME: dict[str, TopicSpec] = {t.name: t for t in TOPICS}
TOPIC_OF_TYPE: dict[str, TopicSpec] = {ty: t for t in TOPICS for ty in t.event_types}

# Output topics written by the worker.
DEAD_LETTER_TOPIC = "dead-letters"
WORKERS_TOPIC = "workers"  # compacted: each running worker's web address, for the live API to find its peers
SLA_ALERTS_TOPIC = "sla-alerts"
