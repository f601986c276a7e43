"""The live summary vs a reference that recomputes each figure from the flat event list."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from statistics import mean
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from streams.core.folds import TicketFolds
from streams.core.live_day import day_bounds, local_date, same_time_yesterday
from streams.core.live_summary import (
    ATTENTION_SHOWN,
    Call,
    Feedback,
    RepStatus,
    add,
    attention_share,
    average_s,
    finalize,
    merge,
    micros,
    partial,
    summary,
    total,
)
from streams.core.replies import Step
from streams.core.ticket_properties import TicketState
from tests.support.references import reference, sorted_history

ZONE = "Europe/Stockholm"
# The night of the fall-back change (2026-10-25) sits inside the two days.
NOW_CHOICES = [datetime(2026, 10, 25, 21, 30, tzinfo=UTC), datetime(2026, 10, 26, 9, 5, tzinfo=UTC),
               datetime(2026, 11, 3, 0, 10, tzinfo=UTC)]


@st.composite
def days(draw):
    now = draw(st.sampled_from(NOW_CHOICES))
    earliest = now - timedelta(hours=60)

    def moment():
        return earliest + timedelta(minutes=draw(st.integers(0, 60 * 60)))

    tickets = {}
    for t in range(draw(st.integers(1, 8))):
        channel = draw(st.sampled_from(["chat", "email"]))
        steps = [Step(moment(), f"t{t}-c", "created", stage="new")]
        for i in range(draw(st.integers(0, 8))):
            kind = draw(st.sampled_from(["customer", "customer", "rep", "rep", "ignored", "closed", "opened"]))
            stage = {"closed": "closed", "opened": "waiting_on_us"}.get(kind, "")
            steps.append(Step(moment(), f"t{t}-{i}", kind, "anna" if kind == "rep" else "c1", channel, stage))
        tickets[f"T{t}"] = (channel, [s for s in steps if s.at <= now])
    feedback = [Feedback(moment(), f"T{draw(st.integers(0, 7))}", "csat", draw(st.integers(1, 5)), 5)
                for _ in range(draw(st.integers(0, 5)))]
    calls = [Call(moment(), "anna", "support", draw(st.sampled_from(["completed", "missed", "voicemail"])),
                  float(draw(st.integers(0, 600)))) for _ in range(draw(st.integers(0, 5)))]
    return now, tickets, [f for f in feedback if f.at <= now], [c for c in calls if c.at <= now]


def ref_figures(steps_by_ticket, feedback, calls, start, end, zone):
    inside = lambda at: start <= at <= end  # noqa: E731
    out = Counter()
    ttfr, ttc, waits, rep_waits, new, closed, open_now = [], [], [], [], [], [], []
    incoming, outgoing = Counter(), Counter()
    for ticket, (_, steps) in steps_by_ticket.items():
        history = sorted_history(steps)
        created = min(s.at for s in history if s.kind == "created")
        if inside(created):
            new.append(ticket)
        status = [s for s in history if s.kind in ("closed", "opened") and s.at <= end]
        if created <= end and (not status or status[-1].kind == "opened"):
            open_now.append(ticket)
        closes = [s for s in history if s.kind == "closed" and inside(s.at)]
        if closes:
            closed.append(ticket)
            ttc.append((closes[0].at - created).total_seconds())
        r = reference(history)
        if r["first_response_at"] is not None and inside(r["first_response_at"]):
            ttfr.append((r["first_response_at"] - r["first_response_from"]).total_seconds())
        for metric, a, b, _, _ in r["intervals"]:
            if inside(b):
                (waits if metric == "customer_wait" else rep_waits).append((b - a).total_seconds())
        for s in history:
            if inside(s.at) and s.kind == "customer":
                out["received"] += 1
                incoming[s.at.astimezone(zone).hour] += 1
            if inside(s.at) and s.kind == "rep":
                out["sent"] += 1
                outgoing[s.at.astimezone(zone).hour] += 1
    avg = lambda v: round(mean(v), 3) if v else None  # noqa: E731
    peak = lambda c: sorted(c.items(), key=lambda hn: (-hn[1], hn[0]))[0][0] if c else None  # noqa: E731
    answers = [f for f in feedback if inside(f.at)]
    return {
        "open_tickets": len(open_now), "new_tickets": len(new), "closed": len(closed),
        "avg_first_response_s": avg(ttfr), "avg_time_to_close_s": avg(ttc),
        "messages_received": out["received"], "messages_sent": out["sent"],
        "customer_wait_s": avg(waits), "rep_wait_s": avg(rep_waits),
        "peak_incoming_hour": peak(incoming), "peak_outgoing_hour": peak(outgoing),
        "csat": round(sum(f.score >= 4 for f in answers) / len(answers), 4) if answers else None,
        "calls_completed": sum(c.outcome == "completed" for c in calls if inside(c.at)),
        "calls_missed": sum(c.outcome == "missed" for c in calls if inside(c.at)),
    }


@settings(max_examples=200, deadline=None)
@given(days(), st.randoms())
def test_every_figure_today_and_at_the_same_time_yesterday_matches_the_recomputation(day, rnd):
    now, tickets, feedback, calls = day
    folds = TicketFolds()
    every = [(t, s) for t, (_, steps) in tickets.items() for s in steps]
    rnd.shuffle(every)  # any arrival order
    for ticket, step in every:
        folds.add(0, ("acme", ticket), step)
    states = {t: TicketState("acme", t, None, {"channel": ch}, {"channel": (now, "x")})
              for t, (ch, _) in tickets.items()}
    rows = [(key, fold, states[key[1]]) for key, fold in folds.partitions[0].items()]
    got = summary(rows, {}, calls, feedback, [], ZONE, now)
    zone = ZoneInfo(ZONE)
    then = same_time_yesterday(now, zone)
    for name, (start, end) in {"today": (day_bounds(local_date(now, zone), zone)[0], now),
                               "yesterday": (day_bounds(local_date(then, zone), zone)[0], then)}.items():
        expected = ref_figures(tickets, feedback, calls, start, end, zone)
        for figure, value in expected.items():
            assert got["figures"][figure][name] == value, (name, figure)


def test_filters_and_availability():
    now = datetime(2026, 11, 2, 15, tzinfo=UTC)
    folds = TicketFolds()
    for t in ("A", "B"):
        folds.add(0, ("acme", t), Step(now - timedelta(hours=1), f"{t}c", "created", stage="new"))
    states = {t: TicketState("acme", t, None, {"team_id": team}, {"team_id": (now, "x")})
              for t, team in (("A", "billing"), ("B", "support"))}
    rows = [(k, f, states[k[1]]) for k, f in folds.partitions[0].items()]
    reps = [RepStatus(now - timedelta(hours=3), "anna", "billing", "available"),
            RepStatus(now - timedelta(hours=2), "bo", "support", "available"),
            RepStatus(now - timedelta(hours=1), "anna", "billing", "away")]
    got = summary(rows, {}, [], [], reps, ZONE, now, {"team": "billing"})
    assert got["figures"]["new_tickets"]["today"] == 1 and got["_tickets"]["new_tickets"] == ["A"]
    assert got["availability"]["today"] == {"available": 0, "max_available": 1}
    assert got["availability"]["reps"] == {"anna": "away"}
    everyone = summary(rows, {}, [], [], reps, ZONE, now)
    assert everyone["availability"]["today"] == {"available": 1, "max_available": 2}
    assert everyone["figures"]["open_tickets"]["today"] == 2


@settings(max_examples=100, deadline=None)
@given(days(), st.integers(1, 3))
def test_partials_of_several_workers_merge_into_the_whole_summary(day, workers):
    """Tickets split over workers by partition, as in a group: the merged answer is the one-worker answer."""
    import json

    now, tickets, feedback, calls = day
    folds = TicketFolds()
    for t, (_, steps) in tickets.items():
        for step in steps:
            folds.add(int(t[1:]) % workers, ("acme", t), step)
    states = {t: TicketState("acme", t, None, {"channel": ch}, {"channel": (now, "x")})
              for t, (ch, _) in tickets.items()}
    reps = [RepStatus(now - timedelta(hours=h), f"rep{h % 3}", "support", "available" if h % 2 else "away")
            for h in range(6)]
    everything = [(k, f, states[k[1]]) for p in folds.partitions.values() for k, f in p.items()]
    whole = summary(everything, {}, calls, feedback, reps, ZONE, now)
    parts = []
    for w in range(workers):
        mine = [(k, f, states[k[1]]) for k, f in folds.partitions.get(w, {}).items()]
        # calls, feedback and reps live on the worker owning their own key's partition
        parts.append(json.loads(json.dumps(partial(
            mine, {}, calls[w::workers], feedback[w::workers], reps[w::workers], ZONE, now))))
    merged = finalize(merge(parts), ZONE, now)
    assert merged["figures"] == whole["figures"]
    assert merged["availability"] == whole["availability"] and merged["sla"] == whole["sla"]
    assert merged["by_channel"] == whole["by_channel"] and merged["messages_by_hour"] == whole["messages_by_hour"]
    # and the tickets behind each figure (drill-downs): a message is counted on its ticket, not listed
    assert {k: sorted(v) for k, v in merged["_tickets"].items()} == {k: sorted(v) for k, v in whole["_tickets"].items()}


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(0, 10**12), max_size=30), st.lists(st.integers(0, 3), max_size=30))
def test_a_wait_total_split_over_workers_averages_as_the_exact_mean(micros_list, owners):
    """Workers send a count and a sum in microseconds, not each wait: the merged mean is the exact one."""
    from fractions import Fraction

    parts = []
    for w in range(4):
        mine = total()
        for i, us in enumerate(micros_list):
            if (owners[i] if i < len(owners) else 0) == w:
                add(mine, micros(timedelta(microseconds=us)))
        parts.append({"today": {"waits": mine}, "yesterday": {}, "waiting_now": [], "reps": [], "attention": [],
                      "attention_tickets": {}, "options": {}})
    merged = merge(parts)["today"]["waits"]
    exact = sum((Fraction(us, 10**6) for us in micros_list), Fraction(0)) / len(micros_list) if micros_list else None
    assert average_s(merged) == (round(float(exact), 3) if exact is not None else None)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 150), st.integers(1, 4), st.randoms(use_true_random=False))
def test_each_worker_sends_its_first_attention_rows_and_the_merged_list_is_the_whole_ones(n, workers, rnd):
    """A share holds at most ATTENTION_SHOWN rows (and the tickets by state), however many clocks need
    attention: the merged answer shows the first rows of all, overdue first, then by due time."""
    import json

    clocks = [(rnd.randint(0, 120), rnd.choice(["first_response", "next_response"]),
               rnd.choice(["overdue", "due_soon"]), rnd.randint(0, 600)) for _ in range(n)]
    now = datetime(2026, 11, 2, 15, tzinfo=UTC)
    rows = [[f"T{t}", metric, state, (now + timedelta(minutes=due)).isoformat()] for t, metric, state, due in clocks]
    rows = [list(r) for r in {tuple(r) for r in rows}]

    def share(mine):
        part = partial([], {}, [], [], [], ZONE, now)
        part["attention"], part["attention_tickets"] = attention_share(
            [(state != "overdue", datetime.fromisoformat(due), t, metric, state) for t, metric, state, due in mine])
        return json.loads(json.dumps(part))

    whole = finalize(merge([share(rows)]), ZONE, now)
    parts = [share([r for r in rows if int(r[0][1:]) % workers == w]) for w in range(workers)]
    assert all(len(p["attention"]) <= ATTENTION_SHOWN for p in parts)
    merged = finalize(merge(parts), ZONE, now)
    assert merged["attention"] == whole["attention"]
    first = sorted(rows, key=lambda r: (r[2] != "overdue", r[3], r[0], r[1]))[:ATTENTION_SHOWN]
    assert [[a["ticket_id"], a["metric"], a["state"], a["due_at"]] for a in merged["attention"]] == first
    for figure, state in (("sla_overdue", "overdue"), ("sla_due_soon", "due_soon")):
        expected = sorted({r[0] for r in rows if r[2] == state})
        assert merged["_tickets"][figure] == whole["_tickets"][figure] == expected
        assert merged["figures"][figure]["today"] == len(expected)
