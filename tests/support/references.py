"""Obviously-correct reference computations the property tests compare the core with, and their generators."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import strategies as st

from streams.core.business_time import DAY_MINUTES, WorkCalendar, parse_ranges
from streams.core.replies import ReplyState, Step, add_step

T0 = datetime(2026, 11, 2, 9, tzinfo=UTC)


RANKS = {"created": 0, "opened": 1, "customer": 2, "rep": 3, "ignored": 3, "closed": 4}


def sorted_history(steps: list[Step]) -> list[Step]:
    """De-duplicated by event id, in time order; at the same instant cause before effect (SPEC §3):
    creation, reopen, customer message, rep message, close."""
    return sorted({s.event_id: s for s in steps}.values(), key=lambda s: (s.at, RANKS[s.kind], s.event_id))


def reference(steps: list[Step]) -> dict:
    """Every metric straight from its definition, over the sorted, de-duplicated history."""
    history = sorted_history(steps)
    created = [s.at for s in history if s.kind == "created"]
    creation = min(created) if created else None
    # A rep message timed before the creation (clock skew) answers nobody and opens nothing.
    history = [s for s in history if not (s.kind == "rep" and (creation is None or s.at < creation))]
    intervals, active, closed, closed_at, reopens = [], [], False, None, 0
    counted: list[Step] = []  # human messages the metrics see (not while closed)

    def emit(messages):
        runs = [list(group) for _, group in itertools.groupby(messages, key=lambda s: s.kind)]
        for run, answer in itertools.pairwise(runs):
            metric = "customer_wait" if run[0].kind == "customer" else "customer_reply"
            intervals.append((metric, run[0].at, answer[0].at, run[0].who, answer[0].who))

    for s in history:
        if s.kind in ("customer", "rep") and not closed:
            active.append(s)
            counted.append(s)
        elif s.kind == "closed" and not closed:
            emit(active)
            active, closed, closed_at = [], True, s.at
        elif s.kind == "opened" and closed:
            active, closed, closed_at, reopens = [], False, None, reopens + 1
    emit(active)
    # First response: the first rep reply; a ticket a rep opened (a rep wrote before any customer)
    # measures from the customer's first message to the next rep reply.
    customers = [i for i, s in enumerate(counted) if s.kind == "customer"]
    reps = [i for i, s in enumerate(counted) if s.kind == "rep"]
    rep_opened = bool(reps) and (not customers or reps[0] < customers[0])
    first_customer = counted[customers[0]].at if customers else None
    if rep_opened:
        answers = [i for i in reps if customers and i > customers[0]]
        start = first_customer
    else:
        answers, start = reps, creation
    first_response = counted[answers[0]].at if answers else None
    runs = [list(group) for _, group in itertools.groupby(active, key=lambda s: s.kind)]
    waiting = runs[-1][0].at if runs and runs[-1][0].kind == "customer" and not closed else None
    return {
        "created_at": creation,
        "first_response_at": first_response,
        "first_response_from": start,
        "closed_at": closed_at,
        "reopens": reopens,
        "intervals": sorted(intervals),
        "waiting_since": waiting,
    }


def observed(state: ReplyState) -> dict:
    return {
        "created_at": state.created_at,
        "first_response_at": state.first_response_at,
        "first_response_from": state.first_response_from,
        "closed_at": state.closed_at,
        "reopens": state.reopens,
        "intervals": sorted((i.metric, i.started_at, i.ended_at, i.waiting, i.answered_by) for i in state.intervals),
        "waiting_since": state.waiting_since,
    }


@st.composite
def histories(draw):
    n = draw(st.integers(1, 25))
    steps = [Step(T0, "e00", "created")]
    for i in range(1, n):
        kind = draw(st.sampled_from(["customer", "customer", "rep", "rep", "ignored", "closed", "opened"]))
        who = draw(st.sampled_from(["c1", "c2"])) if kind == "customer" else draw(st.sampled_from(["anna", "bo"]))
        # minutes from -3 (producer clock skew before the creation) with many same-instant ties
        at = T0 + timedelta(minutes=draw(st.integers(-3, 240) | st.sampled_from([0, 0, 5, 5])))
        steps.append(Step(at, f"e{i:02d}", kind, who if kind in ("customer", "rep") else ""))
    return steps


def fold(steps):
    state = ReplyState()
    for s in steps:
        state = add_step(state, s)
    return state


ZONES = ["Europe/Stockholm", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata", "Pacific/Chatham", "UTC",
         "America/Sao_Paulo"]


# Windows around 2026's DST changes (EU: Mar 29, Oct 25; US: Mar 8, Nov 1; Lord Howe: Apr 5, Oct 4).
ANCHORS = [datetime(2026, m, d, tzinfo=UTC) for m, d in
           [(3, 7), (3, 28), (4, 4), (10, 3), (10, 24), (10, 31), (6, 15)]]


def reference_is_working(cal: WorkCalendar, minute: datetime) -> bool:
    """Does the wall clock at this UTC minute show a time inside a range (of its day or the day before)?"""
    wall = minute.astimezone(ZoneInfo(cal.timezone)).replace(tzinfo=None)
    of_day = wall.hour * 60 + wall.minute
    for day, offset in ((wall.date(), 0), (wall.date() - timedelta(days=1), DAY_MINUTES)):
        if day in cal.holidays:
            continue
        for lo, hi in cal.weekly[day.weekday()]:
            if lo <= of_day + offset < hi:
                return True
    return False


def reference_minutes(cal: WorkCalendar, start: datetime, end: datetime) -> int:
    count, minute = 0, start
    while minute < end:
        count += reference_is_working(cal, minute)
        minute += timedelta(minutes=1)
    return count


def reference_add(cal: WorkCalendar, start: datetime, minutes: int, limit: int = 20_000) -> datetime | None:
    minute, left = start, minutes
    for _ in range(limit):
        if reference_is_working(cal, minute):
            left -= 1
            if left == 0:
                return minute + timedelta(minutes=1)
        minute += timedelta(minutes=1)
    return None


ranges = st.lists(
    st.tuples(st.integers(0, DAY_MINUTES // 15 - 1), st.integers(1, DAY_MINUTES // 15)).map(
        lambda t: (t[0] * 15, t[0] * 15 + t[1] * 15)),  # quarter hours; may run past midnight
    max_size=3,
)


@st.composite
def calendars(draw):
    zone = draw(st.sampled_from(ZONES))
    weekly = tuple(tuple(draw(ranges)) for _ in range(7))
    anchor = draw(st.sampled_from(ANCHORS))
    holidays = frozenset(draw(st.lists(st.integers(-2, 4).map(lambda d: anchor.date() + timedelta(days=d)),
                                       max_size=2)))
    return WorkCalendar(zone, weekly, holidays), anchor


OFFICE = WorkCalendar("Europe/Stockholm", tuple(
    parse_ranges(day) for day in [["08:00-12:00", "13:00-18:00"]] * 4 + [["08:00-12:00", "13:00-16:00"], [], []]),
    frozenset({date(2026, 11, 4)}))


CALENDARS = {"office": OFFICE, "24/7": WorkCalendar.twenty_four_seven()}


def reference_due(calendar: WorkCalendar, start: datetime, minutes: int) -> datetime | None:
    if calendar.always:
        return start + timedelta(minutes=minutes)
    return reference_add(calendar, start, minutes)


def reference_clocks(steps, targets: dict[str, int], calendar: WorkCalendar) -> list[tuple]:
    """(metric, start, stop, due) from the definitions (SPEC §4), over the sorted de-duplicated history."""
    ref = reference(steps)
    history = sorted_history(steps)
    created, first_response, start = ref["created_at"], ref["first_response_at"], ref["first_response_from"]
    out = []
    # first response: its start -> first response, or the first close after the start if that came first
    if start is not None:
        closes = [s.at for s in history if s.kind == "closed" and s.at >= start]
        stop = min([t for t in (first_response, closes[0] if closes else None) if t is not None], default=None)
        out.append(("first_response", start, stop))
    # next response: every wait but the one the first response ended, and the one running now
    waits = [(start, end) for metric, start, end, _, _ in ref["intervals"] if metric == "customer_wait"]
    if waits and waits[0][1] == first_response:
        waits = waits[1:]
    out += [("next_response", start, end) for start, end in waits]
    waiting = ref["waiting_since"]
    if waiting is not None and first_response is not None and waiting >= first_response:
        out.append(("next_response", waiting, None))
    out.append(("time_to_close", created, ref["closed_at"]))
    return sorted((m, a, b, reference_due(calendar, a, targets[m])) for m, a, b in out)
