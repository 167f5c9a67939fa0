"""Housekeeping (beat, every five minutes): reports past their expiry are deleted with their
files, local exports whose worker died are failed so they can be retried, and temporary
files left by killed workers are removed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from portouts.models import Report
from portouts.reports import errors
from portouts.reports.lifecycle import report_delete
from portouts.reports.storage import remove_partials


@dataclass
class HousekeepingResult:
    expired: int = 0
    stalled: int = 0
    partials_removed: int = 0


def reports_expire(*, now: datetime | None = None) -> HousekeepingResult:
    """Delete reports (rows and files) past their expiry; fail exports that stopped."""
    now = now or timezone.now()
    result = HousekeepingResult()
    expired = Report.objects.filter(expires_at__lt=now).only("pk", "file")
    for report in expired.iterator(chunk_size=500):
        report_delete(report=report)
        result.expired += 1
    result.stalled = reports_fail_stalled(now=now)
    result.partials_removed = remove_partials(older_than=now - _stale_after())
    return result


def reports_fail_stalled(*, now: datetime | None = None) -> int:
    """Mark failed the local exports that showed no progress for REPORT_STALE_MINUTES.

    Their worker died (killed, out of memory, machine restarted), or none ever took the
    task; the person can retry.
    """
    now = now or timezone.now()
    limit = _stale_after()
    minutes = int(limit.total_seconds() // 60)
    local = Report.objects.filter(kind=Report.Kind.LOCAL)
    stalled = local.filter(status=Report.Status.RUNNING, heartbeat_at__lt=now - limit).update(
        status=Report.Status.FAILED, finished_at=now, error=errors.export_stalled(minutes)
    )
    # Queued but never picked up (the task message was lost): fail it, so it can be retried
    # and the reports page stops waiting for it.
    never_started = local.filter(status=Report.Status.QUEUED, created_at__lt=now - limit).update(
        status=Report.Status.FAILED, finished_at=now, error=errors.export_never_started(minutes)
    )
    return stalled + never_started


def _stale_after() -> timedelta:
    return timedelta(minutes=settings.REPORT_STALE_MINUTES)
