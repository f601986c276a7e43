"""One source for what each live figure means: the page's tooltips (via the API) and docs/api.md (issue 11)."""

from __future__ import annotations

from datetime import UTC, datetime

from streams.core.figure_definitions import BETTER, FIGURES, markdown_table
from streams.core.live_summary import summary
from tests.support.cli import ROOT


def test_every_figure_of_the_summary_is_defined_and_nothing_else():
    figures = summary([], {}, [], [], [], "UTC", datetime(2026, 11, 23, 12, tzinfo=UTC))["figures"]
    assert set(figures) == set(FIGURES) == set(BETTER)


def test_the_api_doc_shows_the_same_definitions():
    text = (ROOT / "docs" / "api.md").read_text()
    between = text.split("<!-- figures:start -->\n", 1)[1].split("\n<!-- figures:end -->", 1)[0]
    assert between == markdown_table()
