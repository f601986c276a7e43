"""The production shape is written down consistently (no Docker engine runs here)."""


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


def test_worker_environment_is_understood_by_settings(monkeypatch):
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    for key, value in compose["services"]["worker"]["environment"].items():
        monkeypatch.setenv(key, str(value))
    settings = Settings.from_env()
    settings.validate()
    assert settings.bootstrap == "kafka:9092" and settings.clickhouse_dsn.startswith("http://")


def test_prometheus_rules_parse_and_name_worker_metrics():
    rules = yaml.safe_load((ROOT / "deploy/prometheus/rules/pipeline.yml").read_text())
    exprs = [r["expr"] for g in rules["groups"] for r in g["rules"]]
    assert any("deskpulse_dead_lettered_total" in e for e in exprs)
    assert any("deskpulse_consumer_lag" in e for e in exprs)


