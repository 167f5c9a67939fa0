"""What the reports page reads: recent reports with their filters in words."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.conf import settings

from portouts.models import Report
from portouts.reports.filters import describe_list_filters
from portouts.reports.telnyx import TelnyxReportList, describe_telnyx_filters
from portouts.telnyx import ReportData

#: A report in one of these is still being made (the page keeps asking for progress).
UNFINISHED = (Report.Status.QUEUED, Report.Status.RUNNING)


@dataclass(frozen=True)
class ReportList:
    #: Newest first, each with its filters in words ("" for every port-out).
    rows: list[tuple[Report, str]]
    #: Whether any of them is queued or running.
    any_active: bool
    #: Days a report is kept (REPORT_RETENTION_DAYS), said on the page.
    retention_days: int
    #: Changes whenever a Telnyx report of the list changes state: the page then reloads
    #: its "Reports in Telnyx" panel, so both panels tell the same story.
    telnyx_state: str


def report_list(*, limit: int) -> ReportList:
    """The `limit` newest reports (retention keeps the table short anyway)."""
    reports = list(Report.objects.select_related("requested_by").order_by("-created_at")[:limit])
    return ReportList(
        rows=[(r, report_filters_text(r)) for r in reports],
        any_active=any(r.status in UNFINISHED for r in reports),
        retention_days=settings.REPORT_RETENTION_DAYS,
        telnyx_state=_telnyx_state(reports),
    )


def _telnyx_state(reports: list[Report]) -> str:
    states = ",".join(
        f"{r.pk}:{r.status}:{r.telnyx_report_id}" for r in reports if r.kind == Report.Kind.TELNYX
    )
    return hashlib.sha256(states.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class TelnyxRow:
    """A report in Telnyx's own list, its filters in words, and our copy of it, if any."""

    report: ReportData
    filters_text: str
    ours: Report | None


def telnyx_rows(listing: TelnyxReportList) -> list[TelnyxRow]:
    """Telnyx's list with the state the dashboard holds of each report (one query)."""
    ids = [r.id for r in listing.reports if r.id]
    ours = {r.telnyx_report_id: r for r in Report.objects.filter(telnyx_report_id__in=ids)}
    return [
        TelnyxRow(
            report=r,
            filters_text=describe_telnyx_filters(r.params.get("filters") or {}),
            ours=ours.get(r.id or ""),
        )
        for r in listing.reports
    ]


def report_filters_text(report: Report) -> str:
    """A report's saved filters in words, in the form they were chosen with."""
    if report.kind == Report.Kind.TELNYX:
        return describe_telnyx_filters(report.filters)
    return describe_list_filters(report.filters)
