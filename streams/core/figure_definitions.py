"""What each live figure means, in one place: the dashboard's labels and tooltips and docs/api.md's table.

A test keeps docs/api.md equal to `markdown_table()`; the summary API sends
these with every answer, so the page never carries a second copy.
"""

from __future__ import annotations

# name -> (label, definition). Durations end in _s (seconds).
FIGURES: dict[str, tuple[str, str]] = {
    "open_tickets": ("Open tickets", "Created and not closed now (merged and deleted tickets are not open)."),
    "closed": ("Closed today", "Tickets that entered a closed stage today."),
    "avg_first_response_s": ("Avg first response",
                             "From the customer's first message to the first rep reply, over tickets first "
                             "answered today."),
    "avg_time_to_close_s": ("Avg time to close", "From creation to the close, over tickets closed today."),
    "csat": ("CSAT", "Share of today's CSAT answers in the top two scores of their scale (n = answers)."),
    "customer_wait_now_s": ("Customer wait now",
                            "Average time the customers waiting right now have waited so far (a live snapshot; "
                            "no yesterday)."),
    "new_tickets": ("New tickets", "Tickets created today, merged ones included."),
    "messages_received": ("Received", "Customer messages received today."),
    "messages_sent": ("Sent", "Rep replies sent today (bots and internal notes are not replies)."),
    "customer_wait_s": ("Customer wait",
                        "Average wait of a customer message series until the team's reply, over the waits "
                        "that ended today."),
    "rep_wait_s": ("Rep wait",
                   "Average time customers took to answer a rep, over the intervals that ended today."),
    "peak_incoming_hour": ("Peak incoming hour", "Local hour with the most customer messages today."),
    "peak_outgoing_hour": ("Peak outgoing hour", "Local hour with the most rep replies today."),
    "calls_completed": ("Completed calls", "Calls that ended completed today."),
    "call_duration_s": ("Call time", "Total duration of today's calls."),
    "calls_missed": ("Missed calls", "Calls missed today."),
    "sla_overdue": ("Overdue", "Tickets with an SLA clock past its due time, running now."),
    "sla_due_soon": ("Due soon", "Tickets with an SLA clock within its due-soon warning, running now."),
}

# Which way is good: the dashboard colours a change green or red by it (None: neither).
BETTER: dict[str, str | None] = {
    "open_tickets": "down", "closed": "up", "avg_first_response_s": "down", "avg_time_to_close_s": "down",
    "csat": "up", "customer_wait_now_s": "down", "new_tickets": None, "messages_received": None,
    "messages_sent": "up", "customer_wait_s": "down", "rep_wait_s": None, "peak_incoming_hour": None,
    "peak_outgoing_hour": None, "calls_completed": "up", "call_duration_s": None, "calls_missed": "down",
    "sla_overdue": "down", "sla_due_soon": "down",
}


def as_json() -> dict[str, dict]:
    return {name: {"label": label, "definition": text, "better": BETTER.get(name)}
            for name, (label, text) in FIGURES.items()}


def markdown_table() -> str:
    lines = ["| figure | field | definition |", "|---|---|---|"]
    lines += [f"| {label} | `{name}` | {text} |" for name, (label, text) in FIGURES.items()]
    return "\n".join(lines)
