"""What the reports page reads: recent reports with their filters as labels."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from portouts.models import Report
from portouts.reports.filters import filter_labels

#: A report in one of these is still being made (the page keeps asking for progress).
UNFINISHED = (Report.Status.QUEUED, Report.Status.RUNNING)


@dataclass(frozen=True)
class ReportList:
    #: Newest first, each with its filters as "name = value" lines.
    rows: list[tuple[Report, list[str]]]
    #: Whether any of them is queued or running.
    any_active: bool
    #: Days a report is kept (REPORT_RETENTION_DAYS), said on the page.
    retention_days: int


def report_list(*, limit: int) -> ReportList:
    """The `limit` newest reports (retention keeps the table short anyway)."""
    reports = list(Report.objects.select_related("requested_by").order_by("-created_at")[:limit])
    return ReportList(
        rows=[(r, filter_labels(r.filters)) for r in reports],
        any_active=any(r.status in UNFINISHED for r in reports),
        retention_days=settings.REPORT_RETENTION_DAYS,
    )
