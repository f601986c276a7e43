"""The Prometheus alert rules, checked and unit-tested with the real promtool."""

from __future__ import annotations

import shutil
import subprocess

import yaml

from tests.support.cli import ROOT


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
