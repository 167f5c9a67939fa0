"""Export a filtered port-out list to CSV in a real browser, with a real Celery worker."""

from __future__ import annotations

import csv
import io

import pytest
from django.http import QueryDict

from portouts.filters import PortOutFilter
from portouts.models import PortOut, Report

pytestmark = [pytest.mark.browser, pytest.mark.worker]


def test_export_filtered_list_and_download_it(
    signed_in_page, reviewer, synced, celery_worker_process, screenshot
):
    page = signed_in_page(reviewer)
    page.goto("/portouts/?status=pending")
    page.wait_for_selector("#results table")
    query = page.url.split("?", 1)[1]
    expected = list(
        PortOutFilter(data=QueryDict(query), queryset=PortOut.objects.present()).qs.values_list(
            "id", flat=True
        )
    )
    assert expected, "the sandbox has pending port-outs"

    page.click("button:has-text('Export CSV')")
    page.wait_for_url("**/reports/")
    assert page.locator(".message-success").count() == 1
    # The list polls (htmx) until the worker has written the file.
    link = page.wait_for_selector("a:has-text('Download CSV')", timeout=30_000)
    # Telnyx's own report list is loaded into the page from the sandbox.
    page.wait_for_selector("#telnyx-list table")
    screenshot(page, "reports-completed")
    report = Report.objects.get()
    assert report.filters == {"status": ["pending"]}
    assert f"{len(expected)} row" in page.locator(f"#report-{report.pk}").inner_text()

    with page.expect_download() as info:
        link.click()
    download = info.value
    assert download.suggested_filename.startswith("portouts-")
    with open(download.path(), encoding="utf-8", newline="") as f:
        rows = list(csv.reader(io.StringIO(f.read())))
    assert rows[0][0] == "id"
    assert [row[0] for row in rows[1:]] == expected
    assert all(row[rows[0].index("status")] == "pending" for row in rows[1:])
