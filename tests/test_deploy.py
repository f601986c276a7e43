"""The production shape is written down consistently (no Docker engine runs here)."""

import shutil
import subprocess
from pathlib import Path

import yaml

from streams.worker.settings import Settings

ROOT = Path(__file__).resolve().parents[1]


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


def _promtool(*args: str) -> subprocess.CompletedProcess:
    promtool = shutil.which("promtool")
    assert promtool, "promtool missing: `make test` installs Debian's prometheus package"
    return subprocess.run([promtool, *args], capture_output=True, text=True, cwd=ROOT / "deploy/prometheus")


def test_alert_rules_pass_promtool_unit_tests():
    checked = _promtool("check", "rules", *sorted(str(p) for p in (ROOT / "deploy/prometheus/rules").glob("*.yml")))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    tested = _promtool("test", "rules", "tests/rules_test.yml")
    assert tested.returncode == 0 and "SUCCESS" in tested.stdout, tested.stdout + tested.stderr


def test_the_sla_rules_read_the_gauge_the_worker_exports():
    from streams.worker.sla_alerter import SlaAlerter

    rules = yaml.safe_load((ROOT / "deploy/prometheus/rules/sla.yml").read_text())
    exprs = [r["expr"] for g in rules["groups"] for r in g["rules"]]
    [family] = SlaAlerter("localhost:9092", "sla-alerts", 60).collect()
    assert all(family.name in e for e in exprs)
    assert all(label in e for e in exprs for label in ("account_id", "state="))
