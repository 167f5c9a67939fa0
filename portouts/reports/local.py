"""Local exports: the port-out list, as filtered, written to CSV by a Celery worker.

`report_request_local` records the report and queues the task once the transaction
commits; the task runs `report_run_local_export`, which claims the report, writes the
file under a temporary name and completes the report only after the file is in place.
`report_retry` starts any failed report again (a Telnyx one through portouts.reports.telnyx).
"""

from __future__ import annotations

import logging
import os
import uuid
from typing import Any

from django.db import transaction
from django.utils import timezone

from portouts.models import Report
from portouts.reports import errors
from portouts.reports.csv_writer import write_csv
from portouts.reports.filters import filter_errors, filtered_portouts, filters_from_query
from portouts.reports.lifecycle import expiry, mark_completed, mark_failed, report_record
from portouts.reports.storage import delete_file, final_name, partial_file, save_complete
from portouts.reports.telnyx import telnyx_report_resume
from portouts.tasks import export_report_task
from portouts.telnyx import TelnyxClient

logger = logging.getLogger(__name__)


def report_request_local(*, user: Any, query: str) -> Report:
    """Record a local export of the list as filtered by `query` and queue it.

    Raises InvalidFilters so the person sees what is wrong at once instead of a failed
    report later.
    """
    filters = filters_from_query(query)
    if problems := filter_errors(filters):
        raise errors.InvalidFilters(errors.invalid_filters(problems))
    report = report_record(kind=Report.Kind.LOCAL, filters=filters, user=user)
    _queue_export(report)
    return report


def _queue_export(report: Report) -> None:
    report_id = str(report.pk)

    def queue() -> None:
        try:
            export_report_task.delay(report_id)
        except Exception as exc:  # broker unreachable: say so on the report, not as a 500
            logger.error("Could not queue export %s: %s", report_id, type(exc).__name__)
            Report.objects.filter(pk=report_id, status=Report.Status.QUEUED).update(
                status=Report.Status.FAILED, finished_at=timezone.now(), error=errors.NOT_QUEUED
            )

    transaction.on_commit(queue, robust=True)


def report_run_local_export(*, report_id: str | uuid.UUID) -> Report | None:
    """Export one queued report; any failure marks it failed with a plain reason.

    Returns None when the report is gone or no longer waiting (already completed,
    failed by housekeeping, or expired), so a redelivered task does nothing.
    """
    now = timezone.now()
    claimed = Report.objects.filter(
        pk=report_id,
        kind=Report.Kind.LOCAL,
        status__in=[Report.Status.QUEUED, Report.Status.RUNNING],
    ).update(
        status=Report.Status.RUNNING,
        started_at=now,
        heartbeat_at=now,
        finished_at=None,
        rows_done=0,
        rows_total=None,
        error="",
    )
    if not claimed:
        return None
    report = Report.objects.get(pk=report_id)
    try:
        _export(report)
    except Exception as exc:
        logger.exception("Report %s failed", report.pk)
        mark_failed(report, errors.export_failed(exc))
    report.refresh_from_db()
    return report


def _export(report: Report) -> None:
    queryset = filtered_portouts(report.filters)
    total = queryset.count()
    Report.objects.filter(pk=report.pk).update(rows_total=total)

    def progress(done: int) -> None:
        Report.objects.filter(pk=report.pk).update(rows_done=done, heartbeat_at=timezone.now())

    with partial_file() as path:
        with open(path, "wb") as out:
            done = write_csv(queryset, out, on_progress=progress)
        size = os.path.getsize(path)
        progress(done)
        name = save_complete(path, final_name(report, "portouts"))
    mark_completed(report, name=name, size=size, rows=done)


def report_retry(*, report: Report, client: TelnyxClient | None = None) -> Report:
    """Start a failed report again (local: queue a new export; Telnyx: ask or poll again).

    Raises ReportNotRetryable for a report that has not failed.
    """
    if report.status != Report.Status.FAILED:
        raise errors.ReportNotRetryable(errors.NOT_RETRYABLE)
    delete_file(report.file.name)
    now = timezone.now()
    report.file = ""  # type: ignore[assignment]
    report.size = None
    report.rows_done = 0
    report.rows_total = None
    report.error = ""
    report.finished_at = None
    report.expires_at = expiry(now)
    if report.kind != Report.Kind.LOCAL:
        return telnyx_report_resume(report, client=client, now=now)
    report.status = Report.Status.QUEUED
    report.started_at = None
    report.save()
    _queue_export(report)
    return report
