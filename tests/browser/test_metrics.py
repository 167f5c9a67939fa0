"""The metrics page in Chromium: change the period, charts drawn with their text
alternatives, no serious accessibility violation (axe-core, bundled)."""

from __future__ import annotations

from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe

from tests.conftest import _make_user


@pytest.fixture
def viewer_user(django_user_model: Any) -> Any:
    return _make_user(django_user_model, "vic", "Viewer")


def test_metrics_page_period_charts_and_accessibility(
    signed_in_page: Any, viewer_user: Any, screenshot: Any
) -> None:
    page = signed_in_page(viewer_user)
    page.click("nav.mainnav >> text=Metrics")
    page.wait_for_selector("h1:has-text('Metrics')")
    page.select_option("#id_last", "7")
    page.click("form.metrics-period button[type=submit]")
    page.wait_for_url("**/metrics/?last=7*")
    assert "Last 7 days" in page.inner_text("#id_last option:checked")
    charts = page.locator("figure.chart img")
    assert charts.count() >= 2
    for n in range(charts.count()):
        chart = charts.nth(n)
        assert chart.get_attribute("alt")
        # drawn under the page's Content-Security-Policy (a data: SVG image)
        assert chart.evaluate("img => img.complete && img.naturalWidth > 0")
    assert page.locator("#summary table").is_visible()
    screenshot(page, "metrics")
    violations = [
        v for v in Axe().run(page).response["violations"] if v["impact"] in ("serious", "critical")
    ]
    assert not violations, [(v["id"], v["help"], len(v["nodes"])) for v in violations]
    page.fill("#id_start", "2026-11-30")
    page.fill("#id_end", "2026-11-01")
    page.click("form.metrics-period button[type=submit]")
    assert "From must be on or before To." in page.inner_text("form.metrics-period")
