"""The Faust worker: app, web endpoints, and the ingest service it runs.

Faust provides the process: lifecycle and signals, the web server
(/metrics, /stats, /sql, /healthz) and timers. The event topics themselves
are consumed in batches by `IngestService` (see streams/ingest.py for why).
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import os
import tempfile
import uuid
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import faust
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from pydantic import ValidationError

from streams.worker.kafka_admin import cluster_id, ensure_topics
from streams.worker.settings import Settings
from schemas.events import ConfigUpdated
from sinks.clickhouse import Warehouse, jsonable
from sinks.migrate import migrate
from streams.core.config_store import ConfigStore
from streams.worker.ingest import IngestService
from streams.core.live_summary import FILTERS, finalize, merge
from streams.worker.sla_alerter import alerts_topic
from streams.worker.webhook import WebhookService

log = logging.getLogger(__name__)
DASHBOARD = Path(__file__).parent / "static" / "dashboard.html"


def create_app(settings: Settings, warehouse: Warehouse, source_id: str) -> tuple[faust.App, IngestService]:
    app = faust.App(
        # Its own group per process: every worker must read every account's
        # configuration (from the start of the compacted topic), not a share.
        f"{settings.group_id}-config-{uuid.uuid4().hex[:8]}",
        consumer_auto_offset_reset="earliest",
        broker=settings.broker,
        web_host=settings.web_host,
        web_port=settings.web_port,
        web_in_thread=False,
        datadir=tempfile.mkdtemp(prefix="deskpulse-faust-"),  # no Faust tables: nothing to keep
        topic_disable_leader=True,
        broker_rebalance_timeout=settings.rebalance_timeout_ms / 1000,
        broker_session_timeout=settings.session_timeout_ms / 1000,
        broker_heartbeat_interval=1,
        topic_partitions=settings.partitions,
    )
    config = ConfigStore()
    ingest = IngestService(settings, warehouse, config, source_id, loop=app.loop, beacon=app.beacon)
    ingest.alerter.register()  # the deskpulse_sla_clocks gauge
    REGISTRY.register(ingest.live)  # deskpulse_live_open_tickets

    # Configuration is low-volume and must reach every worker: a plain Faust
    # agent applies it (the ingest service only archives it in ClickHouse).
    config_topic = app.topic(settings.topic("config"), value_serializer="raw", key_serializer="raw")

    @app.agent(config_topic)
    async def apply_config(stream):
        async for value in stream:
            try:
                event = ConfigUpdated.model_validate_json(value)
            except ValidationError as exc:
                log.warning("ignoring invalid config event (it is dead-lettered by ingest): %s", exc.errors()[0])
                continue
            if config.apply(event):
                log.info("configuration of %s applied", event.account_id)

    @app.page("/metrics")
    async def prometheus_metrics(self, request):
        await ingest.lag()
        return self.bytes(generate_latest(), content_type=CONTENT_TYPE_LATEST.split(";")[0])

    @app.page("/stats")
    async def stats(self, request):
        alerter = ingest.alerter
        latencies = sorted(alerter.latencies)
        alerts = {"raised": alerter.raised, "stale_not_raised": alerter.stale, "watched_tickets": len(alerter.watched),
                  "latency_p50_s": latencies[len(latencies) // 2] if latencies else None,
                  "latency_p99_s": latencies[int(len(latencies) * 0.99)] if latencies else None}
        consumer = ingest.consumer
        assigned = sorted(f"{tp.topic}/{tp.partition}" for tp in consumer.assignment()) if consumer else []
        return self.json({**ingest.stats.as_dict(), "lag": await ingest.lag(), "alerts": alerts,
                          "assigned": assigned, "ready": ingest.ready})

    @app.page("/config/{account_id}")
    async def account_config(self, request, account_id):
        """The configuration this worker applies to an account (defaults if none was published)."""
        applied = config.applied(account_id)
        body = config.get(account_id).model_dump(mode="json", exclude_none=True)
        return self.json({"account_id": account_id, "applied": applied, "config": body})

    def _authorized(request, account: str) -> bool:
        """With tokens configured, a request needs its account's token (header or ?token=)."""
        tokens = settings.api_tokens
        if not tokens:
            return True
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip() or \
            request.query.get("token", "")
        expected = tokens.get(account)
        return expected is not None and hmac.compare_digest(given, expected)

    def _filters(request) -> dict[str, str]:
        return {name: request.query.get(name, "") for name in FILTERS}

    def _at(request) -> datetime:
        """`?at=`: a past instant of the last two days (its day "so far"); default now."""
        if not request.query.get("at"):
            return datetime.now(UTC)
        return datetime.fromisoformat(request.query["at"]).astimezone(UTC)

    def _local(account: str, filters: dict, now: datetime, figure: str | None) -> dict:
        part = ingest.live.partial(account, filters, now)
        details = {}
        if figure:
            mine = finalize(merge([part]), ingest.live.timezone(account), now, filters)["_tickets"].get(figure, [])
            details = ingest.live.details(account, set(mine))
        return {"partial": part, "details": details}

    async def _gather(request, account: str, figure: str | None = None) -> tuple[dict, dict, list[str]]:
        """This worker's share and every peer's, merged: any worker answers for the whole account."""
        now, filters = _at(request), _filters(request)
        shares = [_local(account, filters, now, figure)]
        missing = []
        if settings.peers:
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
                                return await response.json()
                    except (aiohttp.ClientError, TimeoutError):
                        pass
                    missing.append(peer)
                    return None

                for share in await asyncio.gather(*(ask(p) for p in settings.peers)):
                    if share is not None:
                        shares.append(share)
        merged = finalize(merge([s["partial"] for s in shares]), ingest.live.timezone(account), now, filters)
        details = {k: v for s in shares for k, v in s["details"].items()}
        return merged, details, missing

    def _refused(request, account):
        return None if _authorized(request, account) else {"error": "a valid token for this account is required"}

    @app.page("/api/accounts/{account}/partial")
    async def live_partial(self, request, account):
        """One worker's share of an account's summary, for the other workers (same token rules)."""
        if (refused := _refused(request, account)) is not None:
            return self.json(refused, status=401)
        try:
            return self.json(_local(account, _filters(request), _at(request), request.query.get("figure")))
        except ValueError:
            return self.json({"error": "at must be an ISO-8601 time with offset"}, status=400)

    @app.page("/api/accounts/{account}/summary")
    async def live_summary(self, request, account):
        """Today's figures for one account (SPEC §5), each with the same time yesterday."""
        if (refused := _refused(request, account)) is not None:
            return self.json(refused, status=401)
        try:
            body, _, missing = await _gather(request, account)
        except ValueError:
            return self.json({"error": "at must be an ISO-8601 time with offset"}, status=400)
        body.pop("_tickets")
        return self.json({"account_id": account, **body, "workers": 1 + len(settings.peers) - len(missing),
                          "missing_workers": missing})

    @app.page("/api/accounts/{account}/tickets")
    async def live_tickets(self, request, account):
        """The tickets behind one figure of today: ?figure=closed&page=1&per_page=50 (+ filters)."""
        if (refused := _refused(request, account)) is not None:
            return self.json(refused, status=401)
        figure = request.query.get("figure", "")
        try:
            page = max(int(request.query.get("page", "1")), 1)
            per_page = min(max(int(request.query.get("per_page", "50")), 1), 500)
            body, details, missing = await _gather(request, account, figure)
        except ValueError:
            return self.json({"error": "page, per_page and at must be numbers and a time"}, status=400)
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
        return self.html(DASHBOARD.read_text())

    @app.page("/healthz")
    async def healthz(self, request):
        return self.json({"ok": True})

    @app.page("/sql")
    class ReadOnlySql(faust.web.View):
        """Read-only SQL for local tools while this process holds the embedded
        ClickHouse (chDB allows one process per directory). Bound to
        settings.web_host (loopback by default); ClickHouse enforces readonly."""

        async def post(self, request):
            body = await request.json()
            try:
                result = await ingest.db_call(
                    lambda: warehouse.query(body["query"], body.get("parameters") or None, readonly=True))
            except Exception as exc:
                return self.json({"error": str(exc).strip().splitlines()[0]}, status=400)
            rows = [[jsonable(v) for v in row] for row in result.result_rows]
            return self.json({"columns": list(result.column_names), "rows": rows})

    return app, ingest


def worker_file(settings: Settings) -> Path:
    return settings.data_dir / "worker.json"


def run_worker(settings: Settings, loglevel: str = "warn") -> int:
    """Migrate, then run the worker until SIGINT/SIGTERM. Blocks."""
    warehouse = Warehouse.open(settings.clickhouse_dsn)
    migrate(warehouse, settings.clickhouse_cluster)
    ensure_topics(settings.bootstrap, settings.topic_prefix, settings.partitions)
    app, ingest = create_app(settings, warehouse, cluster_id(settings.bootstrap))
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    marker = worker_file(settings)
    marker.write_text(json.dumps({"pid": os.getpid(), "web": f"http://{settings.web_host}:{settings.web_port}",
                                  "clickhouse": settings.clickhouse_dsn}))
    try:
        services = [ingest]
        if settings.webhook_url:
            services.append(WebhookService(settings.webhook_url, settings.bootstrap,
                                           alerts_topic(settings.topic_prefix), f"{settings.group_id}-webhook",
                                           loop=app.loop, beacon=app.beacon))
        worker = faust.Worker(app, *services, loglevel=loglevel, redirect_stdouts=False, quiet=True)
        worker.execute_from_commandline()
    except SystemExit as exc:
        return int(exc.code or 0)
    finally:
        if marker.exists() and json.loads(marker.read_text()).get("pid") == os.getpid():
            marker.unlink()
        warehouse.close()
    return 0
