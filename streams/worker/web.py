"""The worker's HTTP endpoints, served by Faust's web server.

/metrics and /healthz for operators; /stats for tools and tests; /sql for
local tools while this process holds the embedded ClickHouse; the live API
(/api/accounts/...) and the dashboard page. Any worker answers for a whole
account: it merges its own share with its peers' (`/partial`).
"""

from __future__ import annotations

import asyncio
import csv
import hmac
import io
import json
import logging
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
import faust
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import TypeAdapter, ValidationError
from typing_extensions import TypedDict  # pydantic validates peer shares with it (3.11 needs this one)

from schemas.events import GAPS_CONVERSATION
from sinks.errors import one_line
from sinks.reports import FILTERS as REPORT_FILTERS
from sinks.reports import FREQUENCIES, catalogue
from sinks.reports import HOURS as REPORT_HOURS
from sinks.reports import VIEWS as REPORT_VIEWS
from streams.core.config_store import ConfigStore
from streams.core.figure_definitions import as_json
from streams.core.live_summary import FILTERS, Partial, finalize, merge
from streams.worker.adhoc_sql import AdhocSql, AdhocSqlError, ReportError, UnknownReport
from streams.worker.directory import WorkerDirectory
from streams.worker.gaps import KnowledgeGaps
from streams.worker.ingest import IngestService
from streams.worker.live_answers import LiveAnswers
from streams.worker.settings import Settings

log = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"
DASHBOARD = STATIC / "dashboard.html"
REPORTS_PAGE = STATIC / "reports.html"
# The only files served from disk, by name (never a path from the request): the reports page's script and
# the chart library vendored from npm (static/vendor/uplot/README.md).
STATIC_FILES = {
    "reports.js": ("reports.js", "application/javascript"),
    "format.js": ("format.js", "application/javascript"),
    "agent.js": ("agent.js", "application/javascript"),
    "uPlot.iife.min.js": ("vendor/uplot/uPlot.iife.min.js", "application/javascript"),
    "uPlot.min.css": ("vendor/uplot/uPlot.min.css", "text/css"),
}
FIGURE_DEFINITIONS = as_json()  # the page's labels and tooltips, from the one source


class PeerShare(TypedDict):
    partial: Partial
    details: dict[str, dict[str, str]]


_PEER_SHARE = TypeAdapter(PeerShare)
MAX_SQL_BODY = 256 * 1024
AT_WINDOW = timedelta(hours=50)  # what the live keeper holds: today and yesterday in any zone


class BadAt(ValueError):
    """A `?at=` the live API refuses; its message is the one-line answer."""
# The page loads nothing from elsewhere and is never framed; its scripts are inline or this worker's own.
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'unsafe-inline'; "
                               "connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
# The reports page also loads its script and the vendored chart library from this worker ('self').
REPORTS_PAGE_HEADERS = {**PAGE_HEADERS, "Content-Security-Policy": PAGE_HEADERS["Content-Security-Policy"].replace(
    "script-src 'self' 'unsafe-inline'; style-src 'unsafe-inline'",
    "script-src 'self'; style-src 'self' 'unsafe-inline'")}


def _same(given: str, expected: str) -> bool:
    """Constant-time comparison of tokens as bytes (any text, no exception for non-ASCII)."""
    return hmac.compare_digest(given.encode("utf-8", "surrogatepass"), expected.encode("utf-8", "surrogatepass"))


def _given_token(request) -> str:
    return request.headers.get("Authorization", "").removeprefix("Bearer ").strip() or request.query.get("token", "")


def register(app: faust.App, settings: Settings, config: ConfigStore,
             ingest: IngestService, adhoc: AdhocSql, gaps: KnowledgeGaps, directory: WorkerDirectory) -> None:
    """Add every endpoint to the app."""
    answers = LiveAnswers(settings.live_answer_max_age_s)

    @app.page("/metrics")
    async def prometheus_metrics(self, request):
        await ingest.lag()
        return self.bytes(generate_latest(), content_type=CONTENT_TYPE_LATEST.split(";")[0])

    @app.page("/stats")
    async def stats(self, request):
        lag = await ingest.lag()  # awaited first: everything below is read at one moment (no await in between)
        alerter = ingest.alerter
        latencies = sorted(alerter.latencies)
        alerts = {"raised": alerter.raised, "stale_not_raised": alerter.stale, "watched_tickets": len(alerter.watched),
                  "latency_p50_s": latencies[len(latencies) // 2] if latencies else None,
                  "latency_p99_s": latencies[int(len(latencies) * 0.99)] if latencies else None}
        consumer = ingest.consumer
        assigned = sorted(f"{tp.topic}/{tp.partition}" for tp in consumer.assignment()) if consumer else []
        return self.json({**ingest.stats.as_dict(), "lag": lag, "alerts": alerts,
                          "live_answers": {"computed": answers.computed, "shared": answers.shared,
                                           "held": answers.held},
                          "live_index": ingest.live.index_stats(), "assigned": assigned, "ready": ingest.ready})

    @app.page("/config/{account_id}")
    async def account_config(self, request, account_id):
        """The configuration this worker applies to an account (defaults if none was published)."""
        if (refused := _refused(request, account_id)) is not None:
            return self.json(refused, status=401)
        applied = config.applied(account_id)
        body = config.get(account_id).model_dump(mode="json", exclude_none=True)
        return self.json({"account_id": account_id, "applied": applied, "config": body})

    def _authorized(request, account: str) -> bool:
        """With tokens configured, a request needs its account's token (header or ?token=)."""
        tokens = settings.api_tokens
        if not tokens:
            return True
        expected = tokens.get(account)
        return expected is not None and _same(_given_token(request), expected)

    def _filters(request) -> dict[str, str]:
        return {name: request.query.get(name, "") for name in FILTERS}

    def _at(request) -> datetime:
        """`?at=`: a past instant of the last two days (its day "so far"); default now. ValueError otherwise."""
        now = datetime.now(UTC)
        text = request.query.get("at", "")
        if not text:
            return now
        if len(text) > 40:
            raise BadAt("at is longer than 40 characters")
        try:
            at = datetime.fromisoformat(text)
        except ValueError:
            raise BadAt("at must be an ISO-8601 time with a UTC offset, like 2026-11-23T17:00:00+01:00") from None
        if at.tzinfo is None:
            raise BadAt("at needs a UTC offset, like 2026-11-23T17:00:00+01:00")
        try:
            at = at.astimezone(UTC)
        except (OverflowError, OSError):
            raise BadAt("at is out of range") from None
        if not now - AT_WINDOW <= at <= now + timedelta(minutes=5):
            # Says which side: a day "so far" that has not begun yet is the usual mistake (a zone west of UTC).
            raise BadAt("at is in the future" if at > now else "at must lie within the last two days")
        return at

    def _local(account: str, filters: dict, now: datetime, figure: str | None) -> dict:
        part = ingest.live.partial(account, filters, now)
        details = {}
        if figure:
            mine = finalize(merge([part]), ingest.live.timezone(account), now, filters)["_tickets"].get(figure, [])
            details = ingest.live.details(account, set(mine))
        return {"partial": part, "details": details}

    async def _gather(request, account: str, figure: str | None, now: datetime, filters: dict[str, str],
                      spent: list[float]) -> tuple[dict, dict, list[str]]:
        """This worker's share and every peer's, merged: any worker answers for the whole account. Adds the
        loop thread's CPU seconds it took (not those waiting for peers or for a core) to `spent`."""
        started = time.thread_time()  # CPU of the loop thread: not the time other threads had the cores
        shares = [_local(account, filters, now, figure)]
        spent[0] += time.thread_time() - started
        missing: list[str] = []
        peers = _peers()
        if peers:
            query = {**{k: v for k, v in filters.items() if v}, "at": now.isoformat(), **({"figure": figure} if figure
                                                                                         else {})}
            headers = {"Authorization": request.headers["Authorization"]} if "Authorization" in request.headers \
                else {}
            if request.query.get("token"):
                query["token"] = request.query["token"]
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=3)) as session:
                async def ask(peer: str):
                    try:
                        async with session.get(f"{peer}/api/accounts/{account}/partial", params=query,
                                               headers=headers) as response:
                            if response.status == 200:
                                share = await response.json()
                                _PEER_SHARE.validate_python(share)  # a peer's answer is input like any other
                                return share
                    except (aiohttp.ClientError, TimeoutError, ValueError, ValidationError):
                        pass
                    missing.append(peer)
                    return None

                for share in await asyncio.gather(*(ask(p) for p in peers)):
                    if share is not None:
                        shares.append(share)
        started = time.thread_time()
        merged = finalize(merge([s["partial"] for s in shares]), ingest.live.timezone(account), now, filters)
        details = {k: v for s in shares for k, v in s["details"].items()}
        merged["_workers"] = len(shares)
        spent[0] += time.thread_time() - started
        return merged, details, missing

    async def _shared(request, account: str, figure: str | None = None) -> tuple[dict, dict, list[str]]:
        """`_gather`'s answer, computed once per change of the account or per second (live_answers.py) however
        many pages poll it. It is shared: callers must not change it."""
        now, filters = _at(request), _filters(request)  # a bad `at` is refused before anything is kept
        key = (account, tuple(sorted(filters.items())), figure or "", request.query.get("at", ""))
        spent = [0.0]
        return await answers.get(key, ingest.live.version(account),
                                 lambda: _gather(request, account, figure, now, filters, spent), lambda: spent[0])

    def _peers() -> list[str]:
        """The workers named in DESKPULSE_PEERS and those announced on the `workers` topic, once each."""
        return list(dict.fromkeys([*settings.peers, *directory.peers()]))

    def _refused(request, account):
        return None if _authorized(request, account) else {"error": "a valid token for this account is required"}

    @app.page("/api/accounts/{account}/partial")
    async def live_partial(self, request, account):
        """One worker's share of an account's summary, for the other workers (same token rules)."""
        if (refused := _refused(request, account)) is not None:
            return self.json(refused, status=401)
        try:
            return self.json(_local(account, _filters(request), _at(request), request.query.get("figure")))
        except BadAt as exc:
            return self.json({"error": str(exc)}, status=400)

    @app.page("/api/accounts/{account}/summary")
    async def live_summary(self, request, account):
        """Today's figures for one account (SPEC §5), each with the same time yesterday."""
        if (refused := _refused(request, account)) is not None:
            return self.json(refused, status=401)
        try:
            shared, _, missing = await _shared(request, account)
        except BadAt as exc:
            return self.json({"error": str(exc)}, status=400)
        body = {k: v for k, v in shared.items() if k not in ("_tickets", "_workers")}
        return self.json({"account_id": account, **body, "workers": shared["_workers"],
                          "missing_workers": missing, "definitions": FIGURE_DEFINITIONS})

    @app.page("/api/accounts/{account}/tickets")
    async def live_tickets(self, request, account):
        """The tickets behind one figure of today: ?figure=closed&page=1&per_page=50 (+ filters)."""
        if (refused := _refused(request, account)) is not None:
            return self.json(refused, status=401)
        figure = request.query.get("figure", "")
        try:
            page = max(int(request.query.get("page", "1")), 1)
            per_page = min(max(int(request.query.get("per_page", "50")), 1), 500)
        except ValueError:
            return self.json({"error": "page and per_page must be whole numbers"}, status=400)
        try:
            body, details, missing = await _shared(request, account, figure)
        except BadAt as exc:
            return self.json({"error": str(exc)}, status=400)
        if figure not in body["_tickets"]:
            return self.json({"error": f"unknown figure {figure!r}"}, status=400)
        ids = body["_tickets"][figure]
        start = (page - 1) * per_page
        tickets = [{"ticket_id": t, **details.get(t, {})} for t in ids[start:start + per_page]]
        return self.json({"account_id": account, "figure": figure, "page": page, "per_page": per_page,
                          "total": len(ids), "tickets": tickets, "missing_workers": missing})

    @app.page("/dashboard/{account}")
    async def dashboard(self, request, account):
        """The live page; it polls the summary API (the token, if any, comes in ?token=)."""
        return self.html(DASHBOARD.read_text(), headers=PAGE_HEADERS)

    @app.page("/reports/{account}")
    async def reports_page(self, request, account):
        """The reports page: pick a report, range, frequency, group and filters; chart, table, CSV, drill-down.
        It reads the reports API (the token, if any, comes in ?token=)."""
        return self.html(REPORTS_PAGE.read_text(), headers=REPORTS_PAGE_HEADERS)

    @app.page("/static/{name}")
    async def static_file(self, request, name):
        if name not in STATIC_FILES:
            return self.json({"error": "not found"}, status=404)
        path, content_type = STATIC_FILES[name]
        return self.text((STATIC / path).read_text(), content_type=content_type,
                         headers={"Cache-Control": "max-age=3600", "X-Content-Type-Options": "nosniff"})

    @app.page("/api/accounts/{account}/reports")
    async def report_catalogue(self, request, account):
        """Every report the page can run: definition, columns, options, drill columns, what it charts."""
        if (refused := _refused(request, account)) is not None:
            return self.json(refused, status=401)
        return self.json({"reports": [r.as_json() for r in catalogue().values() if r.has_rows]})

    @app.page("/healthz")
    async def healthz(self, request):
        health = ingest.health()
        return self.json(health, status=200 if health["ok"] else 503)

    @app.page("/api/accounts/{account}/reports/{name}")
    async def report(self, request, account, name):
        """A historical report of this account (docs/reports.md): the `deskpulse report` options as query
        parameters (from, to, freq, view, hours, tz, by, day, channel, priority, team, pipeline, category,
        groups=A,B, rows=true, only.COLUMN=VALUE), JSON or format=csv. The account is the one of the path and its token;
        an `account` parameter is refused."""
        if (refused := _refused(request, account)) is not None:
            return self.json(refused, status=401)
        try:
            options, given, fmt = _report_options(request.query)
            result = await adhoc.report(name, given, {**options, "account": account})
        except (ReportError, AdhocSqlError, ValueError) as exc:
            return self.json({"error": one_line(exc)}, status=404 if isinstance(exc, UnknownReport) else 400)
        if fmt == "csv":
            return self.text(_csv(result), content_type="text/csv", headers={
                "Content-Disposition": f'attachment; filename="{account}-{name}.csv"'})
        return self.json({"account_id": account, "report": name, **result})

    def _gap_range(request, account: str) -> tuple[date, date, str]:
        """?from=&to= (local dates of the account, both inclusive; default the last 30 days)."""
        if set(request.query) - {"from", "to", "token"}:
            raise ValueError("knowledge gaps take from, to (and token)")
        tz = ingest.live.timezone(account)
        today = datetime.now(UTC).astimezone(ZoneInfo(tz)).date()
        try:
            end = date.fromisoformat(request.query.get("to", "")[:10]) if request.query.get("to") else today
            start = (date.fromisoformat(request.query.get("from", "")[:10]) if request.query.get("from")
                     else end - timedelta(days=29))
        except ValueError:
            raise ValueError("from and to must be dates like 2026-11-23") from None
        if end < start or (end - start).days > 366:
            raise ValueError("from..to must be a range of at most a year")
        return start, end, tz

    @app.page("/api/accounts/{account}/gaps")
    async def gap_topics(self, request, account):
        """Knowledge gaps: the questions the AI agent could not answer, grouped into topics (SPEC §7)."""
        if (refused := _refused(request, account)) is not None:
            return self.json(refused, status=401)
        try:
            start, end, tz = _gap_range(request, account)
            body = await gaps.topics(account, start, end, tz)
        except (ValueError, AdhocSqlError) as exc:
            return self.json({"error": one_line(exc)}, status=400)
        return self.json({"account_id": account, "from": start.isoformat(), "to": end.isoformat(), **body})

    @app.page("/api/accounts/{account}/gaps/{topic_id}")
    async def gap_questions(self, request, account, topic_id):
        """The questions of one knowledge-gap topic, each with its conversation, ticket and time."""
        if (refused := _refused(request, account)) is not None:
            return self.json(refused, status=401)
        try:
            start, end, tz = _gap_range(request, account)
            body = await gaps.questions(account, topic_id[:40], start, end, tz)
        except (ValueError, AdhocSqlError) as exc:
            return self.json({"error": one_line(exc)}, status=400)
        if body is None:
            return self.json({"error": "no such topic in this range"}, status=404)
        return self.json({"account_id": account, **body})

    @app.page("/api/accounts/{account}/gaps-dismissals")
    class GapDismissals(faust.web.View):
        """POST {"topic_id": ...} or {"question_id": ...}: dismiss a knowledge-gap topic or one question. The
        dismissal is an event on the agent topic, stored like any other, so it survives restarts."""

        async def post(self, request, account):
            if (refused := _refused(request, account)) is not None:
                return self.json(refused, status=401)
            if request.content_type != "application/json":
                return self.json({"error": "send JSON (Content-Type: application/json)"}, status=415)
            if (request.content_length or 0) > 4096:
                return self.json({"error": "the body is larger than 4096 bytes"}, status=413)
            try:
                body = await request.json()
            except ValueError:
                return self.json({"error": "the body is not JSON"}, status=400)
            if not isinstance(body, dict) or set(body) - {"topic_id", "question_id"} or \
                    sum(isinstance(body.get(k), str) and bool(body.get(k)) for k in ("topic_id", "question_id")) != 1:
                return self.json({"error": "send one of topic_id or question_id, as a string"}, status=400)
            try:
                event = await gaps.dismissal(account, body.get("topic_id"), body.get("question_id"))
            except AdhocSqlError as exc:
                return self.json({"error": one_line(exc)}, status=400)
            if event is None:
                return self.json({"error": "no such topic or question"}, status=404)
            if ingest.producer is None:
                return self.json({"error": "the worker is not connected to the broker yet"}, status=503)
            await ingest.producer.send_and_wait(settings.topic("agent"), key=GAPS_CONVERSATION.encode(),
                                                value=json.dumps(event).encode())
            return self.json({"dismissed": event}, status=202)

    @app.page("/sql")
    class ReadOnlySql(faust.web.View):
        """Read-only SQL for local tools while this process holds the embedded ClickHouse (chDB allows one
        process per directory). Its own session, thread and limits (adhoc_sql.py); JSON bodies only, so a
        web page cannot post to it; with tokens on, only the admin token opens it (it reads every account)."""

        async def post(self, request):
            if settings.api_tokens or settings.admin_token:
                if not settings.admin_token:
                    return self.json({"error": "/sql is off while tokens are on and DESKPULSE_ADMIN_TOKEN is not set"},
                                     status=403)
                if not _same(_given_token(request), settings.admin_token):
                    return self.json({"error": "the admin token is required"}, status=401)
            if request.content_type != "application/json":
                return self.json({"error": "send the query as JSON (Content-Type: application/json)"}, status=415)
            if (request.content_length or 0) > MAX_SQL_BODY:
                return self.json({"error": f"the body is larger than {MAX_SQL_BODY} bytes"}, status=413)
            try:
                body = await request.json()
                if not isinstance(body, dict):
                    raise AdhocSqlError("the body must be a JSON object with 'query'")
                return self.json(await adhoc.run(body.get("query"), body.get("parameters")))
            except (AdhocSqlError, ValueError) as exc:
                return self.json({"error": one_line(exc)}, status=400)


REPORT_FILTER_OPTIONS = tuple(f for f in REPORT_FILTERS if f != "account")  # the account is the path's
REPORT_TEXT_OPTIONS = ("freq", "tz", "by", *REPORT_FILTER_OPTIONS)
REPORT_DATE_OPTIONS = {"from": "start", "to": "end", "day": "day"}


def _report_options(query) -> tuple[dict, set[str], str]:
    """Query parameters -> the options of `build` (every one bounded), the names given, the format.
    `rows=true` lists the rows behind the report, `only.COLUMN=VALUE` narrows them to one report row."""
    names = [n for n in query if not n.startswith("only.")]
    unknown = set(names) - {*REPORT_TEXT_OPTIONS, *REPORT_DATE_OPTIONS, "view", "hours", "rows", "groups", "format",
                            "token"}
    if unknown:
        raise ValueError(f"unknown parameter {sorted(unknown)[0][:40]!r}")
    if len(query) > 40:
        raise ValueError("too many parameters")
    fmt = query.get("format", "json")
    if fmt not in ("json", "csv"):
        raise ValueError("format must be json or csv")
    options: dict = {"start": None, "end": None, "day": None, "freq": "day", "tz": None, "by": "none",
                     "view": "over-time", "hours": None, "rows": False, "only": {}, "groups": None,
                     "filters": dict.fromkeys(REPORT_FILTER_OPTIONS)}
    given: set[str] = set()
    for name, value in query.items():
        if name in ("format", "token"):
            continue
        if len(value) > 200 or len(name) > 60:
            raise ValueError(f"{name[:60]} is longer than 200 characters")
        if name.startswith("only."):
            given.add("only")
            options["only"][name[len("only."):]] = value
            continue
        given.add(name)
        if name in REPORT_DATE_OPTIONS:
            try:
                options[REPORT_DATE_OPTIONS[name]] = date.fromisoformat(value)
            except ValueError:
                raise ValueError(f"{name} must be a date like 2026-11-23") from None
        elif name in options["filters"]:
            options["filters"][name] = value
        elif name == "groups":
            options["groups"] = [g.strip() for g in value.split(",") if g.strip()]
        elif name == "rows":
            if value not in ("true", "false"):
                raise ValueError("rows must be true or false")
            options["rows"] = value == "true"
        else:
            options[name] = value
    if options["freq"] not in FREQUENCIES:
        raise ValueError(f"freq must be {', '.join(FREQUENCIES[:-1])} or {FREQUENCIES[-1]}")
    if options["by"] not in ("rep", "team", "none"):
        raise ValueError("by must be rep, team or none")
    if options["view"] not in REPORT_VIEWS:
        raise ValueError(f"view must be {' or '.join(REPORT_VIEWS)}")
    if options["hours"] not in (None, *REPORT_HOURS):
        raise ValueError(f"hours must be {' or '.join(REPORT_HOURS)}")
    return options, given, fmt


def _csv(result: dict) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(result["columns"])
    writer.writerows(result["rows"])
    return buffer.getvalue()
