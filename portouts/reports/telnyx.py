"""Telnyx reports: Telnyx builds an `export_portouts_csv` report, the dashboard follows it.

`telnyx_report_create` asks Telnyx for the report; beat runs `telnyx_reports_poll`, which
checks every pending one, downloads the finished ones (`telnyx_report_download`, streamed
into a temporary file, saved under the final name when complete) and fails those Telnyx
is too slow with (REPORT_TELNYX_TIMEOUT_MINUTES). A Telnyx error never raises out of these
services: it is stored on the report as a sentence (portouts.reports.errors).
"""

from __future__ import annotations

import csv
import os
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from portouts.form_text import describe_values
from portouts.forms import TelnyxReportForm
from portouts.models import Report
from portouts.reports import errors
from portouts.reports.lifecycle import mark_completed, mark_failed, report_record
from portouts.reports.storage import final_name, partial_file, save_complete
from portouts.telnyx import APIError, NotFoundError, ReportData, TelnyxClient, get_client

TELNYX_REPORT_TYPE = "export_portouts_csv"


def telnyx_filters(
    *,
    statuses: Iterable[str] = (),
    created_after: date | datetime | None = None,
    created_before: date | datetime | None = None,
    phone_numbers: Iterable[str] = (),
    end_user_name: str = "",
    customer_references: Iterable[str] = (),
) -> dict[str, Any]:
    """The filters of an `export_portouts_csv` report, in the API's names (empty ones left
    out), from the fields of the reports page's Telnyx form."""
    filters: dict[str, Any] = {}
    if chosen := [s for s in statuses if s]:
        filters["status__in"] = chosen
    if created_after is not None:
        filters["created_at__gt"] = _api_time(created_after)
    if created_before is not None:
        filters["created_at__lt"] = _api_time(created_before, end=True)
    if numbers := [n for n in phone_numbers if n]:
        filters["phone_numbers__overlaps"] = numbers
    if end_user_name.strip():
        filters["end_user_name"] = end_user_name.strip()
    if refs := [r for r in customer_references if r]:
        filters["customer_reference__in"] = refs
    return filters


#: The reports page's Telnyx form field of each filter `telnyx_filters` sends.
FORM_FIELDS = {
    "status__in": "statuses",
    "created_at__gt": "created_after",
    "created_at__lt": "created_before",
    "phone_numbers__overlaps": "phone_numbers",
    "end_user_name": "end_user_name",
    "customer_reference__in": "customer_references",
}


def describe_telnyx_filters(filters: Mapping[str, Any]) -> str:
    """A Telnyx report's filters in words, through the Telnyx form's labels and choices
    ("Statuses: pending · Created from: 2026-11-01"); "" for every port-out."""
    values: dict[str, Any] = {}
    for key, value in filters.items():
        name = FORM_FIELDS.get(key, key)
        values[name] = _form_day(value, end=key.endswith("__lt")) if "created_at" in key else value
    return describe_values(TelnyxReportForm(), values)


def _form_day(value: Any, *, end: bool) -> Any:
    """The day the form was given for an API time (an end is sent as the next day's start)."""
    moment = parse_datetime(str(value))
    if moment is None:
        return value
    local = timezone.localtime(moment)
    if end and local.time() == datetime.min.time():
        return local.date() - timedelta(days=1)
    return local.date()


def _api_time(value: date | datetime, *, end: bool = False) -> str:
    if not isinstance(value, datetime):
        # A day: from its start, or up to its end (the next day's start, exclusive).
        day = value + timedelta(days=1) if end else value
        value = datetime(day.year, day.month, day.day, tzinfo=timezone.get_current_timezone())
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def telnyx_report_create(
    *, user: Any, filters: Mapping[str, Any], client: TelnyxClient | None = None
) -> Report:
    """Ask Telnyx for an `export_portouts_csv` report and record it.

    A Telnyx error does not raise: the report is saved as failed with Telnyx's message
    in `error`, so the page can show it and the person can retry.
    """
    report = report_record(kind=Report.Kind.TELNYX, filters=filters, user=user)
    return _submit(report, client=client)


def telnyx_report_resume(
    report: Report, *, client: TelnyxClient | None = None, now: datetime
) -> Report:
    """Follow a failed Telnyx report again (its fields already reset by report_retry).

    When Telnyx already has it, it is checked again with a fresh time limit; otherwise
    Telnyx is asked for it again.
    """
    if report.telnyx_report_id:
        report.status = Report.Status.RUNNING
        report.started_at = now
        report.heartbeat_at = now
        report.save()
        return report
    report.save()
    return _submit(report, client=client)


def _submit(report: Report, *, client: TelnyxClient | None) -> Report:
    client = client or get_client()
    now = timezone.now()
    try:
        remote = client.create_report(filters=report.filters, report_type=TELNYX_REPORT_TYPE)
    except APIError as exc:
        report.status = Report.Status.FAILED
        report.error = errors.telnyx_error_text(errors.TELNYX_CREATE_FAILED, exc)
        report.finished_at = now
        report.save()
        return report
    report.telnyx_report_id = remote.id or ""
    report.status = Report.Status.RUNNING
    report.started_at = now
    report.heartbeat_at = now
    report.error = ""
    if not report.telnyx_report_id:
        report.status = Report.Status.FAILED
        report.error = errors.TELNYX_NO_REPORT_ID
        report.finished_at = now
    report.save()
    return report


#: What became of a pending Telnyx report when it was checked.
Outcome = Literal["completed", "failed", "pending"]


@dataclass(frozen=True)
class PollResult:
    """The pending Telnyx reports one poll checked, by outcome."""

    checked: int
    completed: int
    failed: int
    pending: int


def telnyx_reports_poll(
    *, client: TelnyxClient | None = None, now: datetime | None = None
) -> PollResult:
    """Check every pending Telnyx report; download finished ones, fail those too slow."""
    client = client or get_client()
    pending = Report.objects.filter(kind=Report.Kind.TELNYX, status=Report.Status.RUNNING).exclude(
        telnyx_report_id=""
    )
    outcomes = Counter(
        _poll_one(report, client=client, now=now or timezone.now()) for report in pending
    )
    return PollResult(
        checked=outcomes.total(),
        completed=outcomes["completed"],
        failed=outcomes["failed"],
        pending=outcomes["pending"],
    )


def _poll_one(report: Report, *, client: TelnyxClient, now: datetime) -> Outcome:
    limit = timedelta(minutes=settings.REPORT_TELNYX_TIMEOUT_MINUTES)
    timed_out = report.started_at is not None and now - report.started_at > limit
    try:
        remote = client.get_report(report.telnyx_report_id)
    except NotFoundError:
        mark_failed(report, errors.TELNYX_REPORT_GONE)
        return "failed"
    except APIError as exc:
        if timed_out:
            mark_failed(report, errors.telnyx_error_text(errors.TELNYX_CHECK_FAILED_IN_TIME, exc))
            return "failed"
        error = errors.telnyx_error_text(errors.TELNYX_CHECK_FAILED, exc)
        Report.objects.filter(pk=report.pk).update(error=error)
        return "pending"
    if remote.is_completed and remote.document_id:
        return "completed" if telnyx_report_download(report, remote, client=client) else "failed"
    if timed_out:
        mark_failed(report, errors.telnyx_too_slow(int(limit.total_seconds() // 60)))
        return "failed"
    Report.objects.filter(pk=report.pk).update(heartbeat_at=now, error="")
    return "pending"


def telnyx_report_download(
    report: Report, remote: ReportData, *, client: TelnyxClient | None = None
) -> bool:
    """Stream a completed Telnyx report's document into storage; True when it is saved."""
    client = client or get_client()
    document_id = remote.document_id or ""
    Report.objects.filter(pk=report.pk).update(telnyx_document_id=document_id)
    try:
        with partial_file() as path:
            with open(path, "wb") as out, client.stream_document(document_id) as chunks:
                for chunk in chunks:
                    out.write(chunk)
            size = os.path.getsize(path)
            rows = _count_csv_rows(path)
            name = save_complete(path, final_name(report, "telnyx"))
    except APIError as exc:
        mark_failed(report, errors.telnyx_error_text(errors.TELNYX_DOWNLOAD_FAILED, exc))
        return False
    mark_completed(report, name=name, size=size, rows=rows)
    return True


def _count_csv_rows(path: str) -> int:
    """Data rows of a CSV file (its header excluded), read as a stream."""
    with open(path, encoding="utf-8", errors="replace", newline="") as f:
        count = sum(1 for _ in csv.reader(f))
    return max(count - 1, 0)


@dataclass(frozen=True)
class TelnyxReportList:
    reports: list[ReportData]
    error: str = ""


def telnyx_report_list(*, client: TelnyxClient | None = None, limit: int = 25) -> TelnyxReportList:
    """Telnyx's own report list, fetched live; a plain message when Telnyx cannot be reached."""
    try:
        client = client or get_client()
        page = client.list_reports_page(page_size=limit)
    except APIError as exc:
        return TelnyxReportList(
            reports=[], error=errors.telnyx_error_text(errors.TELNYX_LIST_UNAVAILABLE, exc)
        )
    return TelnyxReportList(reports=list(page.data))
