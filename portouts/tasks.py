"""Celery tasks: thin wrappers that call the services (imported inside, to avoid cycles)."""

from __future__ import annotations

import logging

from celery import shared_task

logger = logging.getLogger(__name__)


# Reports ---------------------------------------------------------------------------------


@shared_task(name="portouts.tasks.export_report_task")
def export_report_task(report_id: str) -> str | None:
    """Write a local CSV export; failures are recorded on the report, not raised."""
    from portouts.reports import run_local_export

    report = run_local_export(report_id=report_id)
    return report.status if report is not None else None


@shared_task(name="portouts.tasks.poll_telnyx_reports_task", ignore_result=True)
def poll_telnyx_reports_task() -> dict[str, int]:
    """Beat: check pending Telnyx reports and download the finished ones."""
    from django.core.cache import cache

    from portouts.reports import poll_telnyx_reports

    # One poll at a time: a slow download must not be started twice by the next beat.
    if not cache.add("reports:poll-telnyx:lock", "1", timeout=600):
        return {}
    try:
        result = poll_telnyx_reports()
    finally:
        cache.delete("reports:poll-telnyx:lock")
    return vars(result)


@shared_task(name="portouts.tasks.expire_reports_task", ignore_result=True)
def expire_reports_task() -> dict[str, int]:
    """Beat: delete expired reports and their files; fail exports that stopped."""
    from portouts.reports import expire_reports

    return vars(expire_reports())
