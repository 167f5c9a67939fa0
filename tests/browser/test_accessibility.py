"""axe-core (bundled by axe-playwright-python, nothing downloaded) finds no serious or critical
violation on any main page, each with the content that makes it non-trivial: a filtered list,
the open decision panel, a local and a Telnyx report, the sync runs, the error pages.

Each page is also saved as a 1440×900 screenshot (test-artifacts/screenshots/a11y-*.png).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone

from portouts import reports
from portouts.models import PortOut, Report, SyncRun

#: axe impacts that fail the test; "minor" and "moderate" are printed only.
FAILING_IMPACTS = {"serious", "critical"}
VIEWPORT = {"width": 1440, "height": 900}


def _describe(violations: list[dict[str, Any]]) -> str:
    """Violations as lines a person reads: rule, impact, help, then each element."""
    lines = []
    for v in violations:
        lines.append(f"{v['id']} ({v['impact']}): {v['help']} [{len(v['nodes'])} element(s)]")
        for node in v["nodes"][:5]:
            lines.append(f"    {', '.join(str(t) for t in node['target'])}")
            lines.append(f"      {node.get('failureSummary', '').replace(chr(10), ' ')[:300]}")
    return "\n".join(lines)


@pytest.fixture
def audit(screenshot: Callable[[Any, str], Any]) -> Callable[[Any, str], list[dict[str, Any]]]:
    """Run axe on the page as it is now; save its screenshot; return the failing violations."""
    axe = Axe()

    def run(page: Any, name: str) -> list[dict[str, Any]]:
        page.set_viewport_size(VIEWPORT)
        page.wait_for_load_state("networkidle")
        screenshot(page, f"a11y-{name}")
        violations = axe.run(page).response["violations"]
        if violations:
            print(f"\n== {name}: {len(violations)} violation(s)\n{_describe(violations)}")
        return [v for v in violations if v["impact"] in FAILING_IMPACTS]

    return run


def _reports_present(user: Any) -> None:
    """A completed local export with filters, and a Telnyx report the sandbox is building."""
    now = timezone.now()
    Report.objects.create(
        kind=Report.Kind.LOCAL,
        status=Report.Status.COMPLETED,
        filters={"status_in": ["pending", "rejected"], "o": ["end_user"]},
        requested_by=user,
        started_at=now,
        finished_at=now,
        rows_done=12,
        size=2048,
    )
    reports.telnyx_report_create(user=user, filters={"status__in": ["pending"]})


def _sync_runs_present() -> None:
    now = timezone.now()
    for minute in range(3):
        SyncRun.objects.create(
            kind=SyncRun.Kind.INCREMENTAL,
            status=SyncRun.Status.SUCCEEDED,
            triggered_by="beat",
            finished_at=now,
            heartbeat_at=now,
            counts={"minute": minute},
        )


def test_main_pages_have_no_serious_accessibility_violation(
    browser_page, signed_in_page, reviewer, django_user_model, audit, synced
):
    found: dict[str, list[dict[str, Any]]] = {}
    page = browser_page

    page.goto("/accounts/login/")
    found["sign-in"] = audit(page, "sign-in")

    page = signed_in_page(reviewer)
    found["queue"] = audit(page, "queue")

    page.goto("/portouts/?status=pending&o=end_user&inserted_at_gte=2020-01-01")
    page.wait_for_selector("#results table")
    page.click("details.more-filters summary")
    found["list"] = audit(page, "list")

    portout = PortOut.objects.pending().order_by("created_at").first()
    page.goto(f"/portouts/{portout.id}/")
    # A reviewer arrives on a pending port-out with the authorize panel already open.
    page.wait_for_selector("#authorize-panel[open]")
    found["portout"] = audit(page, "portout")

    page.goto("/events/")
    found["events"] = audit(page, "events")

    _reports_present(reviewer)
    page.goto("/reports/")
    page.wait_for_selector("#telnyx-list")
    found["reports"] = audit(page, "reports")

    _sync_runs_present()
    page.goto("/sync/")
    found["sync"] = audit(page, "sync")

    page.goto("/no-such-page/")
    found["404"] = audit(page, "404")

    # A signed-in user without a role in the dashboard gets the 403 page.
    stranger = django_user_model.objects.create_user("stranger", password="x" * 12)
    page.context.clear_cookies()
    page.goto("/accounts/login/")
    page.fill("#id_username", stranger.get_username())
    page.fill("#id_password", "x" * 12)
    page.click("button[type=submit]")
    page.wait_for_load_state("load")
    page.goto("/")
    found["403"] = audit(page, "403")

    failing = {name: v for name, v in found.items() if v}
    assert not failing, "Serious or critical accessibility violations:\n" + "\n".join(
        f"== {name}\n{_describe(v)}" for name, v in failing.items()
    )
