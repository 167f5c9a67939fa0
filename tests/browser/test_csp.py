"""The enforced Content-Security-Policy blocks nothing the dashboard or its admin site uses."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from portouts.models import PortOut, Report, SyncRun


@pytest.fixture
def enforced_csp(browser_settings: Any) -> None:
    """The production policy (with DEBUG on, settings send it report-only)."""
    browser_settings.SECURE_CSP = browser_settings.CONTENT_SECURITY_POLICY
    browser_settings.SECURE_CSP_REPORT_ONLY = {}


def _watch_violations(page: Any) -> list[str]:
    violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    return violations


def test_pages_and_admin_run_under_the_enforced_policy(
    enforced_csp, browser_page, signed_in_page, admin_user, synced
):
    violations = _watch_violations(browser_page)
    page = signed_in_page(admin_user)
    assert page.evaluate("htmx.config.includeIndicatorStyles") is False
    assert page.locator("head style").count() == 0

    portout = PortOut.objects.pending().order_by("created_at").first()
    page.click("nav.mainnav >> text=Port-outs")
    page.wait_for_selector("#results table")
    page.fill("#id_q", portout.support_key)  # an htmx swap, with its indicator
    # (Playwright's string predicates would need eval, which the policy refuses.)
    page.wait_for_url(lambda url: f"q={portout.support_key}" in url)
    expect(page.locator("#results tbody tr[data-href]")).to_have_count(1)

    # Progress bars of a running export and a running sync (polled every second).
    now = timezone.now()
    Report.objects.create(
        kind=Report.Kind.LOCAL,
        status=Report.Status.RUNNING,
        rows_done=40,
        rows_total=100,
        started_at=now,
        heartbeat_at=now,
        requested_by=admin_user,
    )
    SyncRun.objects.create(
        kind=SyncRun.Kind.FULL,
        triggered_by="test",
        progress_done=4,
        progress_total=10,
        heartbeat_at=now,
    )
    for path, progress in (("/reports/", "40"), ("/sync/", "40")):
        page.goto(path)
        expect(page.locator("progress.progress").first).to_have_attribute("value", progress)
    page.wait_for_timeout(1500)  # a poll of the sync's progress swaps the bar

    for path in (
        f"/portouts/{portout.id}/",
        "/events/",
        "/admin/",
        "/admin/portouts/portout/",
        f"/admin/portouts/portout/{portout.id}/change/",
        "/admin/auth/user/add/",
        "/admin/portouts/customer/",
        "/admin/portouts/customer/add/",
        "/admin/portouts/customer/import/",
    ):
        page.goto(path)
        page.wait_for_load_state("load")
    page.goto(f"/portouts/{portout.id}/")
    page.click("#reject-panel summary")  # app.js at work
    assert violations == []
