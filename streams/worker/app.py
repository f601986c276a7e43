"""The Faust worker process: the app, its services, and running it.

Faust hosts the process: lifecycle and signals, the web server (web.py) and
timers. It runs three services: the config follower (every account's
configuration), the ingest service (the batched hot path; see
docs/decisions/0001-faust-hosts-the-worker-the-hot-path-is-batched.md) and,
with a webhook configured, the webhook delivery.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import os
from pathlib import Path

import faust
from faust.app.base import BootStrategy
from prometheus_client import REGISTRY

from schemas.topics import WORKERS_TOPIC
from sinks import configs as configs_store
from sinks.clickhouse import Warehouse
from sinks.migrate import migrate
from streams.core.config_store import ConfigStore
from streams.worker import web
from streams.worker.adhoc_sql import AdhocSql
from streams.worker.config_follower import ConfigFollower
from streams.worker.directory import WorkerDirectory, advertised_url
from streams.worker.gaps import KnowledgeGaps
from streams.worker.ingest import IngestService
from streams.worker.kafka_admin import cluster_id, ensure_topics
from streams.worker.settings import Settings, SettingsError
from streams.worker.sla_alerter import alerts_topic
from streams.worker.webhook import WebhookService

log = logging.getLogger(__name__)


class _Hosting(BootStrategy):
    """Faust hosts the process, the web server and timers; it runs no Kafka client of its own (no agents, no
    tables: the services read the broker themselves), so it joins no consumer group."""

    enable_kafka = False
    enable_web = True


class WorkerApp(faust.App):
    BootStrategy = _Hosting


def create_app(settings: Settings, warehouse: Warehouse,
               source_id: str) -> tuple[faust.App, ConfigFollower, IngestService]:
    app = WorkerApp(
        # no Faust consumer joins a group (see _Hosting); the id names the app in Faust's logs
        f"{settings.group_id}-app",
        consumer_auto_offset_reset="earliest",
        broker=settings.broker,
        web_host=settings.web_host,
        web_bind=settings.web_host,  # Faust binds 0.0.0.0 by default: the API would be open to the network
        web_port=settings.web_port,
        web_in_thread=False,
        datadir=str(settings.data_dir / "faust"),  # no Faust tables: stays empty, and is not a temp dir per start
        topic_disable_leader=True,
        broker_rebalance_timeout=settings.rebalance_timeout_ms / 1000,
        broker_session_timeout=settings.session_timeout_ms / 1000,
        broker_heartbeat_interval=1,
        topic_partitions=settings.partitions,
        # Faust's own pages (/router, /table, stats) would bypass the tokens: off. `/` only answers {"status": "OK"}.
        web_router_enabled=False, web_tables_enabled=False, web_stats_enabled=False, web_graph_enabled=False,
    )
    config = ConfigStore()
    ingest = IngestService(settings, warehouse, config, source_id, loop=app.loop, beacon=app.beacon)
    ingest.configs = ConfigFollower(settings.bootstrap, settings.topic("config"), config,
                                    lambda: ingest.db_call(configs_store.load_latest, warehouse),
                                    loop=app.loop, beacon=app.beacon)
    configs = ingest.configs
    ingest.alerter.register()  # the deskpulse_sla_clocks gauge
    REGISTRY.register(ingest.live)  # deskpulse_live_open_tickets
    app.adhoc_sql = AdhocSql(settings.clickhouse_dsn)  # /sql: its own session, never the ingest one
    app.directory = WorkerDirectory(settings.bootstrap, settings.topic(WORKERS_TOPIC),
                                    advertised_url(settings.web_host, settings.web_port, settings.advertised_url),
                                    loop=app.loop, beacon=app.beacon)
    web.register(app, settings, config, ingest, app.adhoc_sql, KnowledgeGaps(app.adhoc_sql), app.directory)
    return app, configs, ingest


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def worker_file(settings: Settings) -> Path:
    return settings.data_dir / "worker.json"


class _Worker(faust.Worker):
    def on_setup_root_logger(self, logger: logging.Logger, level: int) -> None:
        # Faust's terminal spinner set the root logger to DEBUG (its handler counts every record), so every
        # library's debug record was built and then dropped: 6% of the event loop under live traffic, most
        # of it aiokafka's fetcher. No spinner: the root logger keeps the level asked for.
        self.spinner = None


def run_worker(settings: Settings, loglevel: str = "warn") -> int:
    """Migrate, then run the worker until SIGINT/SIGTERM. Blocks."""
    if not settings.api_tokens and not settings.allow_open_api and not _loopback(settings.web_host):
        raise SettingsError(f"the web API would be open to the network on {settings.web_host} without tokens: "
                            "set DESKPULSE_API_TOKENS (and DESKPULSE_ADMIN_TOKEN), or DESKPULSE_ALLOW_OPEN_API=1")
    warehouse = Warehouse.open(settings.clickhouse_dsn)
    migrate(warehouse, settings.clickhouse_cluster)
    ensure_topics(settings.bootstrap, settings.topic_prefix, settings.partitions)
    app, configs, ingest = create_app(settings, warehouse, cluster_id(settings.bootstrap))
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    marker = worker_file(settings)
    marker.write_text(json.dumps({"pid": os.getpid(), "web": f"http://{settings.web_host}:{settings.web_port}",
                                  "clickhouse": settings.clickhouse_dsn}))
    try:
        services: list = [configs, ingest, app.directory]
        if settings.webhook_url:
            services.append(WebhookService(settings.webhook_url, settings.bootstrap,
                                           alerts_topic(settings.topic_prefix), f"{settings.group_id}-webhook",
                                           loop=app.loop, beacon=app.beacon))
        worker = _Worker(app, *services, loglevel=loglevel, redirect_stdouts=False, quiet=True)
        worker.execute_from_commandline()
    except SystemExit as exc:
        return int(exc.code or 0)
    finally:
        if marker.exists() and json.loads(marker.read_text()).get("pid") == os.getpid():
            marker.unlink()
        app.adhoc_sql.close()
        warehouse.close()
    return 0
