"""reports.yml describes every report: its SQL exists, returns exactly the described columns, and the docs match."""

from __future__ import annotations

from datetime import date
from importlib import resources

import pytest

from sinks.reports import available, catalogue, markdown, parameters, report_sql
from sinks.reports.request import sla_hours, working_hours
from tests.support.cli import ROOT


def _params(name: str) -> dict:
    if catalogue()[name].parameters:
        return {"account": "acme", "day": date(2026, 11, 2), "tz": "Europe/Stockholm", "closed": ["closed"]}
    params = {**parameters(date(2026, 11, 1), date(2026, 11, 30), "week", "Europe/Stockholm"), "by": "rep"}
    if catalogue()[name].working_hours:  # no configuration: everyone works 24/7
        params.update(working_hours(None, date(2026, 11, 1), date(2026, 11, 30), "Europe/Stockholm"))
    if catalogue()[name].sla_hours:
        params.update(sla_hours(None, date(2026, 11, 1), "Europe/Stockholm"))
    return params


@pytest.mark.parametrize("name", available())
def test_each_report_returns_the_columns_its_description_lists(clean_warehouse, name):
    # DESCRIBE gives the result's columns even when there are no rows
    result = clean_warehouse.query(f"DESCRIBE ({report_sql(name)})", _params(name))
    assert [row[0] for row in result.result_rows] == list(catalogue()[name].columns)


def test_every_sql_file_is_in_the_catalogue_and_names_are_never_paths():
    files = {e.name[:-4].replace("_", "-") for e in resources.files("sinks.reports").iterdir()
             if e.name.endswith(".sql")}
    assert files == set(available())
    with pytest.raises(KeyError):
        report_sql("../migrations/0001-raw-events")


def test_the_reports_doc_is_generated_from_the_catalogue():
    expected = markdown() + "\n"
    assert (ROOT / "docs" / "reports.md").read_text() == expected, "run: deskpulse report --catalogue > docs/reports.md"
