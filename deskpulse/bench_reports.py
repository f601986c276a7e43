"""`make bench-reports`: every report over a year of history at 10 million messages.

Loading: a template of tickets (default 10,000, about ten messages each, two
weeks) is made by the worker's own core and row mapping (folds, facts, raw
event rows: what the pipeline would store), inserted into staging copies of
the tables, and then copied in ClickHouse (INSERT ... SELECT over numbers())
with new ids, accounts and times, so a year of four accounts takes minutes,
not hours through the broker. Every copy keeps its shape: the facts are the
template's, shifted.

Then each report runs for one account over its last 30 days and over the
year (best of 3 runs each, a warm cache, as a dashboard would see it), next
to a ceiling measured in the same run: a plain count of that account's
messages in the year.
"""

from __future__ import annotations

import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from schemas.config import AccountConfig
from schemas.events import (
    AgentConversationClosed,
    AgentConversationStarted,
    AgentFeedback,
    AgentHandedOff,
    AgentResolved,
    FeedbackSubmitted,
    MessageCreated,
    RepStatusChanged,
    TicketCreated,
)
from sinks.clickhouse import Warehouse
from sinks.conversation_store import COLUMNS as CONVERSATION_COLUMNS
from sinks.conversation_store import NULLABLE as CONVERSATION_NULLABLE
from sinks.conversation_store import conversation_row
from sinks.facts_store import COLUMNS, NULLABLE, facts_row
from sinks.migrate import migrate
from sinks.reports import catalogue, parameters, report_sql
from sinks.reports.request import sla_hours, working_hours
from sinks.rows import ColumnBatch, event_row, table_columns
from streams.core.agent_conversations import ConversationFold
from streams.core.business_time import WorkCalendar, parse_ranges
from streams.core.decode import SourceRef
from streams.core.facts import ticket_facts
from streams.core.folds import TicketFold, message_step
from streams.core.replies import Step
from streams.core.sla_clocks import Targets
from streams.core.ticket_properties import TicketState
from streams.worker.conversations import step_of

ACCOUNTS = 4
YEAR_START = datetime(2025, 11, 1, tzinfo=UTC)
SPAN = timedelta(days=14.6)  # one copy's time span; copies follow each other through the year
TZ = "Europe/Stockholm"
OFFICE = WorkCalendar(TZ, tuple(parse_ranges(d) for d in [["08:00-17:00"]] * 5 + [[], []]), frozenset())
TARGETS = Targets(first_response=4 * 3600.0, next_response=8 * 3600.0, time_to_close=3 * 86400.0, due_soon=1800.0)
BENCH_CONFIG = AccountConfig.model_validate({"timezone": TZ, "default_calendar": "office", "calendars": {
    "office": {"hours": {d: ["08:00-17:00"] for d in ("mon", "tue", "wed", "thu", "fri")}}}})
REPS = [(f"rep{i:02d}", ("billing", "support", "sales")[i % 3]) for i in range(24)]
TABLES = ("ticket_facts", "agent_conversation_facts", "message_events", "ticket_events", "feedback_events",
          "availability_events", "agent_events")
ID_COLUMNS = {"ticket_id", "event_id", "message_id", "contact_id", "merged_ticket_id", "conversation_id"}


def _template(tickets: int, seed: int, closed_share: float = 0.85) -> dict[str, ColumnBatch]:
    """The template history, through the worker's core and row mapping."""
    rng = random.Random(seed)
    out = {t: ColumnBatch(table_columns(t)) for t in TABLES if not t.endswith("_facts")}
    facts = ColumnBatch(COLUMNS, nullable=NULLABLE)
    conversations = ColumnBatch(CONVERSATION_COLUMNS, nullable=CONVERSATION_NULLABLE)
    offset = 0

    def raw(event, topic: str) -> None:
        nonlocal offset
        offset += 1
        table, row = event_row(event, SourceRef(topic, 0, offset), "bench")
        out[table].append(row)

    for i in range(tickets):
        tid = f"t{i}"
        created = YEAR_START + timedelta(seconds=rng.uniform(0, SPAN.total_seconds()))
        owner, team = rng.choice(REPS)
        channel = rng.choice(["email", "email", "chat", "phone", "form"])
        priority = rng.choice(["low", "medium", "medium", "high", "urgent"])
        props = {"owner_id": owner, "team_id": team, "channel": channel, "pipeline": "support",
                 "priority": priority, "category": rng.choice(["billing", "bug", "question", "account"])}
        raw(TicketCreated(event_id=f"c{i}", type="ticket.created", account_id="acct0", occurred_at=created,
                          ticket_id=tid, channel=channel, priority=priority, owner_id=owner, team_id=team,
                          category=props["category"], schema_version=1), "tickets")
        fold = TicketFold()
        fold.add(Step(created, f"c{i}", "created", stage="new"))
        at, customer = created, f"cust{rng.randrange(tickets // 3 + 1)}"
        for j in range(max(1, int(rng.gauss(11, 3)))):
            at += timedelta(minutes=rng.expovariate(1 / 90))
            inbound = j % 2 == 0
            sender = customer if inbound else owner
            kind = ("inbound", "customer") if inbound else rng.choice([("outbound", "rep")] * 8 + [
                ("outbound", "bot"), ("internal", "rep")])
            fold.add(message_step(kind[0], kind[1], at, f"m{i}-{j}", sender, channel))
            raw(MessageCreated(event_id=f"m{i}-{j}", type="message.created", account_id="acct0", occurred_at=at,
                               ticket_id=tid, message_id=f"m{i}-{j}", direction=kind[0], sender_type=kind[1],
                               sender_id=sender, channel=channel, schema_version=1), "messages")
        if rng.random() < closed_share:
            at += timedelta(minutes=rng.expovariate(1 / 120))
            fold.add(Step(at, f"x{i}", "closed", stage="closed"))
            if rng.random() < 0.3:
                raw(FeedbackSubmitted(event_id=f"f{i}", type="feedback.submitted", account_id="acct0",
                                      occurred_at=at + timedelta(hours=1), ticket_id=tid, survey="csat",
                                      score=rng.choice([1, 2, 3, 4, 4, 5, 5, 5]), scale=5, schema_version=1),
                    "feedback")
        state = TicketState("acct0", tid, created, props, {k: (created, f"c{i}") for k in props})
        facts.append(facts_row("acct0", tid, state, ticket_facts(fold, TARGETS, OFFICE), at, 1))
        if channel == "chat":  # the AI agent spoke first: it resolved the chat, or handed it off as this ticket
            conversations.append(_conversation(rng, i, tid, owner, team, created, raw))
    for rep, team in REPS:  # rep status changes through the span
        at = YEAR_START + timedelta(minutes=rng.uniform(0, 600))
        while at < YEAR_START + SPAN:
            raw(RepStatusChanged(event_id=f"a{offset}", type="rep.status_changed", account_id="acct0", occurred_at=at,
                                 rep_id=rep, team_id=team, status=rng.choice(["available", "available", "busy",
                                                                              "away", "offline"]),
                                 schema_version=1), "availability")
            at += timedelta(minutes=rng.expovariate(1 / 120))
    return {"ticket_facts": facts, "agent_conversation_facts": conversations, **out}


def _conversation(rng: random.Random, i: int, tid: str, owner: str, team: str, ticket_created: datetime,
                  raw: Callable) -> tuple:
    """One AI-agent conversation, ending before the ticket it may hand off to; its raw events and its facts
    row, through the worker's fold and row mapping."""
    base = {"account_id": "acct0", "conversation_id": f"v{i}", "schema_version": 1}
    at = ticket_created - timedelta(minutes=rng.uniform(2, 20))
    events = [AgentConversationStarted(event_id=f"vs{i}", type="agent.conversation_started", occurred_at=at,
                                       channel="chat", **base)]
    at += timedelta(minutes=1)
    if rng.random() < 0.5:
        events.append(AgentHandedOff(event_id=f"vh{i}", type="agent.handed_off", occurred_at=at, ticket_id=tid,
                                     to_rep_id=owner, to_team_id=team, **base))
    else:
        events.append(AgentResolved(event_id=f"vr{i}", type="agent.resolved", occurred_at=at, **base))
    if rng.random() < 0.4:
        events.append(AgentFeedback(event_id=f"vf{i}", type="agent.feedback", occurred_at=at,
                                    helpful=rng.random() < 0.7, **base))
    events.append(AgentConversationClosed(event_id=f"vc{i}", type="agent.conversation_closed",
                                          occurred_at=at + timedelta(seconds=30), **base))
    fold = ConversationFold()
    for event in events:
        raw(event, "agent")
        fold.add(step_of(event))
    return conversation_row(("acct0", f"v{i}"), fold.facts(), at, 1)


def _copy_sql(warehouse: Warehouse, table: str, copies: int, partitions: int = 1) -> str:
    """INSERT ... SELECT that makes `copies` copies of the staged template: copy n belongs to account
    n % ACCOUNTS and is shifted by (n // ACCOUNTS) spans; ids get the copy number. A ticket's rows go to
    the partition the producer's key hash gives it (Kafka's murmur2), as a worker would have stored them."""
    shift = f"toIntervalSecond(intDiv(c.number, {ACCOUNTS}) * {int(SPAN.total_seconds())})"
    columns = warehouse.query(
        "SELECT name, type FROM system.columns WHERE database = currentDatabase() AND table = {t:String} "
        "AND default_kind != 'MATERIALIZED' ORDER BY position", {"t": table}).result_rows
    has_ticket = any(name == "ticket_id" for name, _ in columns)
    exprs = []
    for name, kind in columns:
        column = f"`{name}`"
        if name == "_partition" and has_ticket and partitions > 1:
            exprs.append(f"kafkaMurmurHash(concat(ticket_id, '-', toString(c.number))) % {partitions}")
        elif name == "account_id":
            exprs.append(f"concat('acct', toString(c.number % {ACCOUNTS}))")
        elif name in ID_COLUMNS:
            exprs.append(f"if({column} = '', '', concat({column}, '-', toString(c.number)))")
        elif name == "_offset":
            exprs.append(f"{column} + c.number * 100000000")
        elif kind.startswith("Array(") and "DateTime64" in kind:
            exprs.append(f"arrayMap(x -> x + {shift}, {column})")
        elif "DateTime64" in kind:
            exprs.append(f"{column} + {shift}")
        else:
            exprs.append(column)
    return (f"INSERT INTO {table} SELECT {', '.join(exprs)} FROM bench_{table} AS t "
            f"CROSS JOIN numbers({copies}) AS c")


def _timed(run: Callable[[], object], repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best * 1000


def load_history(warehouse: Warehouse, tickets: int, copies: int, seed: int = 7, echo: Callable[[str], None] = print,
                 closed_share: float = 0.85, partitions: int = 1) -> tuple[int, int]:
    """The year of history, `copies` shifted copies of a `tickets` template, into a migrated warehouse (its
    tables emptied first); returns (tickets, messages) stored."""
    started = time.perf_counter()
    template = _template(tickets, seed, closed_share)
    echo(f"template: {tickets} tickets, {len(template['message_events'].data[0])} messages through the core "
         f"in {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    for table, batch in template.items():
        warehouse.command(f"DROP TABLE IF EXISTS bench_{table}")
        warehouse.command(f"CREATE TABLE bench_{table} AS {table}")
        warehouse.command(f"TRUNCATE TABLE {table}")
        warehouse.insert_columns(f"bench_{table}", batch.columns, batch.data)
        warehouse.command(_copy_sql(warehouse, table, copies, partitions))
        warehouse.command(f"DROP TABLE bench_{table}")
    warehouse.command("OPTIMIZE TABLE ticket_facts FINAL")
    warehouse.command("OPTIMIZE TABLE agent_conversation_facts FINAL")
    messages = warehouse.query("SELECT count() FROM message_events").result_rows[0][0]
    facts = warehouse.query("SELECT count() FROM ticket_facts").result_rows[0][0]
    echo(f"loaded: {facts} tickets, {messages} messages, {ACCOUNTS} accounts, a year, "
         f"in {time.perf_counter() - started:.1f} s")
    return facts, messages


def run_bench_reports(tickets: int = 10_000, copies: int = 100, data_dir: str | None = None, seed: int = 7,
                      echo: Callable[[str], None] = print, warehouse: Warehouse | None = None) -> int:
    """Load the history and time every report; into `warehouse` if given (chDB opens one path per process, so a
    test passes its own), else into a chDB at `data_dir` or a temporary one."""
    owned = warehouse is None
    if warehouse is None:
        warehouse = Warehouse.open(f"chdb://{data_dir or tempfile.mkdtemp(prefix='deskpulse-bench-reports-')}")
    migrate(warehouse)
    _, messages = load_history(warehouse, tickets, copies, seed, echo)

    last = (YEAR_START + SPAN * (copies // ACCOUNTS)).date() - timedelta(days=1)
    ranges = {"30 days": (last - timedelta(days=29), last, "day"), "year": (YEAR_START.date(), last, "week")}
    ceiling = _timed(lambda: warehouse.query(
        "SELECT count() FROM message_events WHERE account_id = 'acct1' AND occurred_at >= {a:DateTime64(3)}",
        {"a": YEAR_START}))
    echo(f"ceiling: count of one account's messages in the year {ceiling:.0f} ms")
    timings: dict[str, float] = {}
    for name, report in catalogue().items():
        if report.parameters:  # one-day reports: the history's last day
            sql, params = report_sql(name), {"account": "acct1", "day": last, "tz": TZ, "closed": ["closed"]}
            ms = _timed(lambda sql=sql, params=params: warehouse.query(sql, params))
            timings[f"{name} (day)"] = ms
            echo(f"  {name:<24} {'day':<8} {ms:8.0f} ms  ratio to ceiling {ms / max(ceiling, 0.1):6.1f}")
            continue
        for label, (start, end, freq) in ranges.items():
            params = {**parameters(start, end, freq, TZ, account="acct1"), "by": "rep" if report.groups else "none"}
            if report.working_hours:  # office hours for everyone: a calendar's intervals over the range
                params.update(working_hours(BENCH_CONFIG, start, end, TZ))
            if report.sla_hours:
                params.update(sla_hours(BENCH_CONFIG, start, TZ))
            sql = report_sql(name)
            ms = _timed(lambda sql=sql, params=params: warehouse.query(sql, params))
            timings[f"{name} ({label})"] = ms
            echo(f"  {name:<24} {label:<8} {ms:8.0f} ms  ratio to ceiling {ms / max(ceiling, 0.1):6.1f}")
    slowest = max(timings, key=timings.__getitem__)
    echo(f"bench-reports: messages={messages} reports={len(timings)} slowest={timings[slowest]:.0f} ms ({slowest}) "
         f"median={statistics.median(timings.values()):.0f} ms")
    over = [name for name, ms in timings.items() if ms >= 1000]
    echo(f"goal (every report under 1 s): {'met' if not over else 'not met: ' + ', '.join(over)}")
    if owned:
        warehouse.close()
    return 0

