"""A seeded, deterministic model of help-desk traffic (pure: yields event dicts).

A discrete-event simulation: each account has teams and reps with shifts in
the account's time zone; customers open tickets on every channel at a rate
that follows the local working day; reps answer (faster when on shift),
customers reply (sometimes several messages in a row), tickets wait, close,
reopen, merge, get deleted, and are rated. Phone tickets come with calls,
reps change status, and a chat bot takes part of the chats, answering,
failing to answer, resolving or handing off to a human.

The same seed and start always give the same events, ids included.
"""

from __future__ import annotations

import heapq
import itertools
import json
import random
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from deskpulse.simulator.questions import questions

CHANNELS = ("chat", "email", "form", "phone", "messenger", "api", "other")
CHANNEL_WEIGHTS = (30, 30, 12, 12, 8, 5, 3)
PRIORITIES = ("low", "medium", "high", "urgent")
PRIORITY_WEIGHTS = (25, 50, 20, 5)
CATEGORIES = ("billing", "product issue", "feature request", "account", "shipping")
QUESTIONS = (
    "how do I reset my password", "can I change my billing date", "where is my order",
    "do you ship to norway", "how to export my invoices", "why was my card declined",
    "can I add a second user", "is there an api rate limit", "how do I cancel my plan",
    "where can I download the app",
)


@dataclass(frozen=True)
class Rep:
    rep_id: str
    team_id: str
    shift: tuple[int, int]  # local hours [start, end)


@dataclass(frozen=True)
class AccountModel:
    account_id: str
    timezone: str
    reps: tuple[Rep, ...]
    tickets_per_hour: float  # at the peak of the working day

    @property
    def teams(self) -> tuple[str, ...]:
        return tuple(sorted({r.team_id for r in self.reps}))


DEFAULT_ACCOUNTS = (
    AccountModel("acme", "Europe/Stockholm", (
        Rep("anna", "support", (8, 16)), Rep("bjorn", "support", (8, 16)), Rep("carla", "support", (12, 20)),
        Rep("dev", "billing", (9, 17)), Rep("emil", "billing", (9, 17)), Rep("fatima", "support", (6, 14)),
    ), tickets_per_hour=30.0),
    AccountModel("globex", "America/New_York", (
        Rep("gus", "tier1", (7, 15)), Rep("hana", "tier1", (11, 19)), Rep("ivan", "tier2", (9, 17)),
        Rep("jade", "tier2", (9, 17)),
    ), tickets_per_hour=18.0),
)


@dataclass
class _Ticket:
    ticket_id: str
    account: AccountModel
    channel: str
    contact_id: str
    owner: Rep | None = None
    status: str = "new"
    closed: bool = False
    deleted: bool = False
    merged: bool = False


@dataclass(order=True)
class _Action:
    at: datetime
    seq: int
    run: Callable[[], None] = field(compare=False)


class Simulation:
    def __init__(self, seed: int, start: datetime, accounts: tuple[AccountModel, ...] = DEFAULT_ACCOUNTS,
                 intensity: float = 1.0) -> None:
        self.rng = random.Random(seed)
        self.now = start.astimezone(UTC)
        self.accounts = accounts
        self.intensity = intensity
        self._queue: list[_Action] = []
        self._seq = itertools.count()
        self._out: list[dict] = []
        self._ids = itertools.count(1)
        self._open: dict[str, list[_Ticket]] = {a.account_id: [] for a in accounts}
        self._generation = 0  # arrival chains of an older intensity stop themselves
        self._gaps = questions(random.Random(seed + 1))  # unanswered questions: their own stream, same seed
        for account in accounts:
            self._at(self.now, lambda a=account: self._arrival(a, 0))
            for rep in account.reps:
                self._at(self._next_local_hour(account, rep.shift[0]), lambda a=account, r=rep: self._shift_start(a, r))
            self._at(self.now + timedelta(minutes=1), lambda a=account: self._config(a))

    # --- the engine -------------------------------------------------------------

    def events(self, until: datetime) -> Iterator[dict]:
        """Events with occurred_at < until, in time order. Can be called again to go on."""
        until = until.astimezone(UTC)
        while self._queue and self._queue[0].at < until:
            action = heapq.heappop(self._queue)
            self.now = action.at
            action.run()
            out, self._out = self._out, []
            yield from out
        self.now = max(self.now, until)

    def _at(self, when: datetime, run: Callable[[], None]) -> None:
        heapq.heappush(self._queue, _Action(when, next(self._seq), run))

    def _after(self, minutes: float, run: Callable[[], None]) -> None:
        self._at(self.now + timedelta(minutes=max(minutes, 1e-5)), run)  # > 0: time always moves on

    def _id(self, prefix: str) -> str:
        return f"{prefix}-{uuid.UUID(int=self.rng.getrandbits(128)).hex[:16]}"

    def _emit(self, account: AccountModel, kind: str, **fields) -> None:
        self._out.append({
            "event_id": self._id("ev"), "type": kind, "account_id": account.account_id,
            "occurred_at": self.now.isoformat(timespec="milliseconds"), "schema_version": 1, **fields,
        })

    def _local_hour(self, account: AccountModel) -> float:
        local = self.now.astimezone(ZoneInfo(account.timezone))
        return local.hour + local.minute / 60

    def _is_workday(self, account: AccountModel) -> bool:
        return self.now.astimezone(ZoneInfo(account.timezone)).weekday() < 5

    def _next_local_hour(self, account: AccountModel, hour: int) -> datetime:
        zone = ZoneInfo(account.timezone)
        local = self.now.astimezone(zone)
        candidate = local.replace(hour=hour, minute=0, second=0, microsecond=0)
        if candidate <= local:
            candidate = (local + timedelta(days=1)).replace(hour=hour, minute=0, second=0, microsecond=0)
        return candidate.astimezone(UTC)

    def _on_shift(self, account: AccountModel) -> list[Rep]:
        hour = self._local_hour(account)
        if not self._is_workday(account):
            return []
        return [r for r in account.reps if r.shift[0] <= hour < r.shift[1]]

    # --- actions ----------------------------------------------------------------

    def _config(self, account: AccountModel) -> None:
        """The account's shipped example configuration (a minimal one for other accounts)."""
        from deskpulse.account_config import example

        try:
            document = json.loads(example(account.account_id).model_dump_json(exclude_none=True))
        except FileNotFoundError:
            document = {"account_id": account.account_id, "timezone": account.timezone}
        self._emit(account, "config.updated", config=document)

    def arrival_rate(self, account: AccountModel) -> float:
        """New tickets per hour at this moment, before the intensity multiplier."""
        hour = self._local_hour(account)
        daytime = 1.0 if 8 <= hour < 18 else 0.25
        weekday = 1.0 if self._is_workday(account) else 0.4
        return account.tickets_per_hour * daytime * weekday

    def set_intensity(self, intensity: float) -> None:
        """Change the ticket arrival rate from now on."""
        self.intensity = intensity
        self._generation += 1
        for account in self.accounts:
            self._at(self.now, lambda a=account, g=self._generation: self._arrival(a, g))

    def _arrival(self, account: AccountModel, generation: int) -> None:
        if generation != self._generation:
            return
        rate = self.arrival_rate(account) * self.intensity  # per hour
        self._after(self.rng.expovariate(rate) * 60, lambda: self._arrival(account, generation))
        channel = self.rng.choices(CHANNELS, CHANNEL_WEIGHTS)[0]
        if channel == "chat" and self.rng.random() < 0.45:
            self._bot_conversation(account)
        else:
            self._new_ticket(account, channel)

    def _new_ticket(self, account: AccountModel, channel: str, contact_id: str | None = None,
                    team: str | None = None) -> _Ticket:
        ticket = _Ticket(self._id("t"), account, channel, contact_id or f"c{self.rng.randint(1, 400)}")
        self._emit(account, "ticket.created", ticket_id=ticket.ticket_id, pipeline="support", status="new",
                   channel=channel, priority=self.rng.choices(PRIORITIES, PRIORITY_WEIGHTS)[0],
                   team_id=team or self.rng.choice(account.teams), category=self.rng.choice(CATEGORIES),
                   subject=f"{self.rng.choice(QUESTIONS).capitalize()}?", contact_id=ticket.contact_id)
        # A second ticket from a contact with an open one is sometimes merged into it.
        earlier = [t for t in self._open[account.account_id] if t.contact_id == ticket.contact_id and not t.closed]
        self._open[account.account_id].append(ticket)
        if len(self._open[account.account_id]) > 500:
            self._open[account.account_id] = [t for t in self._open[account.account_id][-300:] if not t.closed]
        if channel == "phone":
            self._call(account, ticket)
        self._customer_writes(ticket, series=1 if channel == "phone" else self.rng.choice((1, 1, 1, 2)))
        if earlier and self.rng.random() < 0.3:
            self._after(self.rng.uniform(1, 30), lambda: self._merge(earlier[0], ticket))
        elif self.rng.random() < 0.01:
            self._after(self.rng.uniform(1, 60), lambda: self._delete(ticket))
        return ticket

    def _customer_writes(self, ticket: _Ticket, series: int) -> None:
        if ticket.deleted or ticket.merged:
            return
        account = ticket.account
        for _ in range(series):
            self._emit(account, "message.created", message_id=self._id("m"), ticket_id=ticket.ticket_id,
                       direction="inbound", sender_type="customer", sender_id=ticket.contact_id,
                       channel=ticket.channel)
        if ticket.closed:  # a customer writing to a closed ticket reopens it
            ticket.closed = False
            self._status(ticket, "waiting_on_us")
        elif ticket.status == "waiting_on_contact":
            self._status(ticket, "waiting_on_us")
        self._after(self._rep_delay(account, ticket.channel), lambda: self._rep_replies(ticket))

    def _rep_delay(self, account: AccountModel, channel: str) -> float:
        fast = channel in ("chat", "messenger", "phone")
        if self._on_shift(account):
            return self.rng.expovariate(1 / (4 if fast else 45))
        # Off hours: answered when the next shift starts, plus a little.
        return (self._next_local_hour(account, 8) - self.now).total_seconds() / 60 + self.rng.uniform(5, 90)

    def _rep_replies(self, ticket: _Ticket) -> None:
        if ticket.deleted or ticket.merged or ticket.closed:
            return
        account = ticket.account
        if ticket.owner is None:
            on_shift = self._on_shift(account) or list(account.reps)
            ticket.owner = self.rng.choice(on_shift)
            self._emit(account, "ticket.updated", ticket_id=ticket.ticket_id, owner_id=ticket.owner.rep_id,
                       team_id=ticket.owner.team_id)
            if self.rng.random() < 0.08:
                self._emit(account, "ticket.updated", ticket_id=ticket.ticket_id,
                           priority=self.rng.choice(("high", "urgent")))
        if self.rng.random() < 0.15:
            self._emit(account, "message.created", message_id=self._id("m"), ticket_id=ticket.ticket_id,
                       direction="internal", sender_type="rep", sender_id=ticket.owner.rep_id,
                       channel=ticket.channel)
        self._emit(account, "message.created", message_id=self._id("m"), ticket_id=ticket.ticket_id,
                   direction="outbound", sender_type="rep", sender_id=ticket.owner.rep_id, channel=ticket.channel)
        self._status(ticket, "waiting_on_contact")
        roll = self.rng.random()
        if roll < 0.5:
            fast = ticket.channel in ("chat", "messenger")
            self._after(self.rng.expovariate(1 / (3 if fast else 240)),
                        lambda: self._customer_writes(ticket, self.rng.choice((1, 1, 2, 3))))
        else:
            self._after(self.rng.uniform(5, 600), lambda: self._close(ticket))

    def _status(self, ticket: _Ticket, status: str) -> None:
        ticket.status = status
        self._emit(ticket.account, "ticket.updated", ticket_id=ticket.ticket_id, status=status)

    def _close(self, ticket: _Ticket) -> None:
        if ticket.deleted or ticket.merged or ticket.closed or ticket.status != "waiting_on_contact":
            return
        ticket.closed = True
        self._status(ticket, "closed")
        account = ticket.account
        if self.rng.random() < 0.35:
            self._after(self.rng.uniform(1, 120), lambda: self._emit(
                account, "feedback.submitted", ticket_id=ticket.ticket_id, survey="csat",
                score=self.rng.choices((1, 2, 3, 4, 5), (4, 6, 15, 35, 40))[0], scale=5,
                contact_id=ticket.contact_id))
        if self.rng.random() < 0.15:
            self._after(self.rng.uniform(1, 120), lambda: self._emit(
                account, "feedback.submitted", ticket_id=ticket.ticket_id, survey="ces",
                score=self.rng.randint(1, 7), scale=7, contact_id=ticket.contact_id))
        if self.rng.random() < 0.06:  # the customer comes back: reopen
            self._after(self.rng.uniform(30, 2 * 24 * 60), lambda: self._customer_writes(ticket, 1))

    def _merge(self, primary: _Ticket, merged: _Ticket) -> None:
        if primary.deleted or merged.deleted or primary.merged or merged.merged or primary.closed:
            return
        merged.merged = True
        self._emit(primary.account, "ticket.merged", ticket_id=primary.ticket_id,
                   merged_ticket_id=merged.ticket_id)

    def _delete(self, ticket: _Ticket) -> None:
        if ticket.deleted or ticket.merged:
            return
        ticket.deleted = True
        self._emit(ticket.account, "ticket.deleted", ticket_id=ticket.ticket_id)

    def _call(self, account: AccountModel, ticket: _Ticket) -> None:
        rep = self.rng.choice(self._on_shift(account) or list(account.reps))
        outcome = self.rng.choices(("completed", "missed", "voicemail"), (75, 15, 10))[0]
        duration = self.rng.uniform(60, 1200) if outcome == "completed" else self.rng.uniform(0, 40)
        started = self.now

        def ended() -> None:
            self._emit(account, "call.ended", call_id=self._id("call"), rep_id=rep.rep_id, team_id=rep.team_id,
                       ticket_id=ticket.ticket_id, outcome=outcome, started_at=started.isoformat(),
                       duration_s=round(duration, 1))

        self._at(started + timedelta(seconds=duration), ended)

    def _shift_start(self, account: AccountModel, rep: Rep) -> None:
        self._at(self._next_local_hour(account, rep.shift[0]), lambda: self._shift_start(account, rep))
        if not self._is_workday(account):
            return
        self._rep_status(account, rep, "available")
        length = (rep.shift[1] - rep.shift[0]) * 60
        for _ in range(self.rng.randint(0, 3)):  # breaks and busy spells
            begin = self.rng.uniform(30, length - 60)
            status = self.rng.choice(("away", "busy"))
            self._after(begin, lambda s=status: self._rep_status(account, rep, s))
            self._after(begin + self.rng.uniform(5, 30), lambda: self._rep_status(account, rep, "available"))
        self._after(length + self.rng.uniform(-10, 20), lambda: self._rep_status(account, rep, "offline"))

    def _rep_status(self, account: AccountModel, rep: Rep, status: str) -> None:
        self._emit(account, "rep.status_changed", rep_id=rep.rep_id, team_id=rep.team_id, status=status)

    def _bot_conversation(self, account: AccountModel) -> None:
        conversation = self._id("conv")
        contact = f"c{self.rng.randint(1, 400)}"
        self._emit(account, "agent.conversation_started", conversation_id=conversation,
                   channel=self.rng.choices(("chat", "messenger"), (80, 20))[0], contact_id=contact)
        if self.rng.random() < 0.08:  # the visitor leaves before the agent says anything
            self._after(self.rng.uniform(0.5, 2), lambda: self._emit(account, "agent.conversation_closed",
                                                                     conversation_id=conversation))
            return
        t = 0.0
        for _ in range(self.rng.randint(1, 3)):
            t += self.rng.uniform(0.2, 2)
            if self.rng.random() < 0.8:
                answered = self.rng.choice(QUESTIONS)
                self._after(t, lambda q=answered: self._emit(account, "agent.answered", conversation_id=conversation,
                                                             question=q))
            else:  # a knowledge gap: phrased as visitors phrase it, typos included
                gap = next(self._gaps)
                self._after(t, lambda q=gap: self._unanswered(account, conversation, q))
        t += self.rng.uniform(0.5, 3)
        if self.rng.random() < 0.6:
            self._after(t, lambda: self._emit(account, "agent.resolved", conversation_id=conversation))
            if self.rng.random() < 0.5:
                self._after(t + 0.5, lambda: self._emit(account, "agent.feedback", conversation_id=conversation,
                                                        helpful=self.rng.random() < 0.75))
            self._after(t + 1, lambda: self._emit(account, "agent.conversation_closed",
                                                  conversation_id=conversation))
        else:
            def hand_off() -> None:
                team = self.rng.choice(account.teams)
                ticket = self._new_ticket(account, "chat", contact_id=contact, team=team)
                self._emit(account, "agent.handed_off", conversation_id=conversation, ticket_id=ticket.ticket_id,
                           to_team_id=team)
                self._after(1, lambda: self._emit(account, "agent.conversation_closed",
                                                  conversation_id=conversation))

            self._after(t, hand_off)

    def _unanswered(self, account: AccountModel, conversation: str, question: str) -> None:
        self._emit(account, "agent.unanswered", conversation_id=conversation, question=question)
        if self.rng.random() < 0.03:  # a manager dismisses that question from the knowledge gaps later
            question_id = self._out[-1]["event_id"]
            self._after(self.rng.uniform(60, 24 * 60), lambda: self._emit(
                account, "agent.gap_dismissed", conversation_id="gaps", question_id=question_id))
