"""The production shape is written down consistently (no Docker engine runs here)."""

import re
import xml.etree.ElementTree as ET

import yaml

from streams.worker.settings import Settings
from tests.support.cli import ROOT


def test_compose_has_the_production_services_wired_to_each_other():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"kafka", "clickhouse", "worker", "prometheus", "grafana"} <= set(services)
    env = services["worker"]["environment"]
    assert env["DESKPULSE_BROKER"] == "kafka://kafka:9092"
    assert env["DESKPULSE_CLICKHOUSE"].startswith("http://") and "@clickhouse:8123/" in env["DESKPULSE_CLICKHOUSE"]
    assert (ROOT / services["worker"]["build"]["dockerfile"]).is_file()
    for volume in services["prometheus"]["volumes"]:
        assert (ROOT / volume.split(":")[0]).exists()


def _worker_settings(monkeypatch, environment: dict) -> Settings:
    """A compose worker environment read as the worker reads it; docker compose interpolates ${NAME} and
    ${NAME:?message}: stand-in secrets, as an operator's .env gives."""
    secrets = {"CLICKHOUSE_PASSWORD": "s3cret", "DESKPULSE_API_TOKENS": "acme=t1,globex=t2",
               "DESKPULSE_ADMIN_TOKEN": "t0"}
    for key, value in environment.items():
        monkeypatch.setenv(key, re.sub(r"\$\{(\w+)(:\?[^}]*)?\}", lambda m: secrets[m[1]], str(value)))
    settings = Settings.from_env()
    settings.validate()
    return settings


def test_worker_environment_is_understood_by_settings(monkeypatch):
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    settings = _worker_settings(monkeypatch, compose["services"]["worker"]["environment"])
    assert settings.bootstrap == "kafka:9092" and settings.clickhouse_dsn.startswith("http://")
    assert settings.api_tokens == {"acme": "t1", "globex": "t2"} and settings.admin_token == "t0"


def test_compose_ships_no_secrets_and_publishes_servers_on_loopback_only():
    text = (ROOT / "docker-compose.yml").read_text()
    assert "change-me" not in text and "deskpulse:deskpulse@" not in text
    compose = yaml.safe_load(text)
    env = compose["services"]["worker"]["environment"]
    assert env["DESKPULSE_API_TOKENS"].startswith("${DESKPULSE_API_TOKENS:?")
    assert env["DESKPULSE_ADMIN_TOKEN"].startswith("${DESKPULSE_ADMIN_TOKEN:?")
    for name in ("kafka", "clickhouse"):
        assert all(str(p).startswith("127.0.0.1:") for p in compose["services"][name]["ports"]), name
    users = (ROOT / "deploy/clickhouse/users.xml").read_text()
    assert "::/0" not in users and 'from_env="CLICKHOUSE_DESKPULSE_PASSWORD"' in users


def test_prometheus_rules_parse_and_name_worker_metrics():
    rules = yaml.safe_load((ROOT / "deploy/prometheus/rules/pipeline.yml").read_text())
    exprs = [r["expr"] for g in rules["groups"] for r in g["rules"]]
    assert any("deskpulse_dead_lettered_total" in e for e in exprs)
    assert any("deskpulse_consumer_lag" in e for e in exprs)




def test_the_vendored_chart_library_is_the_one_its_readme_names():
    import hashlib
    import re

    folder = ROOT / "streams/worker/static/vendor/uplot"
    named = re.search(r"sha256 of `uPlot.iife.min.js`: ([0-9a-f]{64})", (folder / "README.md").read_text())[1]
    assert hashlib.sha256((folder / "uPlot.iife.min.js").read_bytes()).hexdigest() == named
    assert "MIT" in (folder / "LICENSE").read_text()


def test_the_cluster_overlay_runs_three_workers_against_replicated_clickhouse(monkeypatch):
    """deploy/cluster/compose.yml on top of docker-compose.yml: what the README's production section shows."""
    base = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    overlay = yaml.safe_load((ROOT / "deploy/cluster/compose.yml").read_text())
    assert overlay["services"]["worker"]["deploy"]["replicas"] == 3
    for name, service in overlay["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (ROOT / source).is_file(), (name, source)
            else:
                assert source in overlay["volumes"] or source in base["volumes"], (name, source)
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), name
    # the worker, as compose merges the two files (environment by key), is understood by the settings
    settings = _worker_settings(monkeypatch, {**base["services"]["worker"]["environment"],
                                              **overlay["services"]["worker"]["environment"]})
    assert settings.partitions % 3 == 0
    # the cluster the migrations name is the one the servers define, with a replica for each server
    cluster = ET.parse(ROOT / "deploy/cluster/cluster.xml").getroot()
    replicas = cluster.findall(f"remote_servers/{settings.clickhouse_cluster}/shard/replica/host")
    servers = {n for n, s in {**base["services"], **overlay["services"]}.items() if n.startswith("clickhouse")}
    assert {r.text for r in replicas} == servers
    macros = {ET.parse(ROOT / v.split(":")[0]).getroot().findtext("macros/replica")
              for n in servers for v in overlay["services"][n]["volumes"] if "macros" in v}
    assert macros == servers  # each replica names itself
    assert cluster.findtext("zookeeper/node/host") in overlay["services"]
