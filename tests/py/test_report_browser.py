"""The backtest's HTML report in headless Chromium: it opens from a file with no console
error, draws its three charts, and every figure in its table is the JSON's, formatted."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import goldensignals as gs
from browser_helpers import chromium, needs_chromium
from goldensignals.evaluation.report import _SHOWN, fmt

pytest.importorskip("arch")


@needs_chromium
def test_the_html_report_shows_the_figures_of_its_json(tmp_path: Path) -> None:
    spx = gs.datasets.sp500().loc[:"2008-12-31"]
    report = gs.backtest(spx, horizon=5, costs_bps=2.0, progress=False, random_draws=50)
    page_file = tmp_path / "report.html"
    report.to_html(str(page_file))
    expected = json.loads(report.to_json())
    errors: list[str] = []
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 1600})
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(page_file.as_uri())
        embedded = json.loads(page.locator("#report-data").text_content() or "{}")
        cells = page.eval_on_selector_all(
            "#metrics tbody tr", """rows => rows.map(r => [r.dataset.source,
                Object.fromEntries([...r.querySelectorAll('td[data-field]')]
                    .map(td => [td.dataset.field, td.textContent]))])""")
        charts = {sel: page.locator(sel).count() for sel in
                  ("svg#equity polyline", "svg#reliability circle", "svg#hitrates circle")}
        page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
    assert errors == []
    assert embedded == expected
    by_source = {r["source"]: r for r in expected["metrics"]}
    assert [s for s, _ in cells] == list(by_source)
    for source, shown in cells:
        for key, _, spec in _SHOWN:
            assert shown[key] == fmt(by_source[source].get(key), spec), (source, key)
    assert by_source["consensus"]["hit_rate"] is not None
    assert charts["svg#equity polyline"] == 2  # the consensus and buy-and-hold
    assert charts["svg#reliability circle"] >= 3
    assert charts["svg#hitrates circle"] == 1 + len(report.meta["agents"])
