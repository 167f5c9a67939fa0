"""A report row's life, the same for local exports and Telnyx reports: recorded with its
expiry, completed only once its file is saved under the final name, or failed with a
sentence a person can act on; deleted together with its file."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from portouts.models import Report
from portouts.reports.storage import delete_file


def expiry(now: datetime) -> datetime:
    """When a report requested (or retried) at `now` is deleted with its file."""
    return now + timedelta(days=settings.REPORT_RETENTION_DAYS)


def report_record(*, kind: str, filters: Mapping[str, Any], user: Any) -> Report:
    """A new report row (queued), kept for REPORT_RETENTION_DAYS."""
    return Report.objects.create(
        kind=kind,
        filters=dict(filters),
        requested_by=user if getattr(user, "is_authenticated", False) else None,
        expires_at=expiry(timezone.now()),
    )


def mark_completed(report: Report, *, name: str, size: int, rows: int) -> None:
    """Offer the saved file `name`, unless the report was failed or deleted meanwhile."""
    updated = Report.objects.filter(pk=report.pk, status=Report.Status.RUNNING).update(
        status=Report.Status.COMPLETED,
        file=name,
        size=size,
        rows_done=rows,
        rows_total=rows,
        finished_at=timezone.now(),
        heartbeat_at=timezone.now(),
        error="",
    )
    if not updated:
        # Failed (stalled) or deleted meanwhile: the file is nobody's.
        delete_file(name)


def mark_failed(report: Report, reason: str) -> None:
    Report.objects.filter(pk=report.pk).update(
        status=Report.Status.FAILED, error=reason[:2000], finished_at=timezone.now()
    )


def report_delete(*, report: Report) -> None:
    """Delete a report and its file (exports hold personal data: never leave the file)."""
    delete_file(report.file.name)
    report.delete()
