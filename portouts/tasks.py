"""Celery tasks: thin wrappers that call the services (imported inside, to avoid cycles)."""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task

logger = logging.getLogger(__name__)


# Reports ---------------------------------------------------------------------------------


@shared_task(name="portouts.tasks.export_report_task")
def export_report_task(report_id: str) -> str | None:
    """Write a local CSV export; failures are recorded on the report, not raised."""
    from portouts.reports import report_run_local_export

    report = report_run_local_export(report_id=report_id)
    return report.status if report is not None else None


@shared_task(name="portouts.tasks.poll_telnyx_reports_task", ignore_result=True)
def poll_telnyx_reports_task() -> dict[str, int]:
    """Beat: check pending Telnyx reports and download the finished ones."""
    from django.core.cache import cache

    from portouts.reports import telnyx_reports_poll

    # One poll at a time: a slow download must not be started twice by the next beat.
    if not cache.add("reports:poll-telnyx:lock", "1", timeout=600):
        return {}
    try:
        result = telnyx_reports_poll()
    finally:
        cache.delete("reports:poll-telnyx:lock")
    return vars(result)


@shared_task(name="portouts.tasks.expire_reports_task", ignore_result=True)
def expire_reports_task() -> dict[str, int]:
    """Beat: delete expired reports and their files; fail exports that stopped."""
    from portouts.reports import reports_expire

    return vars(reports_expire())


# Risk ------------------------------------------------------------------------------------


@shared_task(name="portouts.tasks.confirmations_due_task", ignore_result=True)
def confirmations_due_task() -> int:
    """Beat: flag confirmations whose answer time passed without an answer."""
    from portouts.risk.confirmation import confirmations_due

    return confirmations_due()


# Sync ------------------------------------------------------------------------------------


class TransientTelnyxError(Exception):
    """A Telnyx failure worth retrying later (connection, timeout, 408/409/429, 5xx)."""


#: retries of a failed sync run: none for beat's incremental runs (the next tick, a minute
#: later, is the retry), one for a run a person asked for, a few for the nightly full run
SYNC_RETRIES_ASKED = 1
SYNC_RETRIES_NIGHTLY = 3
#: first retry delay in seconds, doubling, capped well below QUEUED_STALE_AFTER so the run
#: row waiting for its retry (queued again) is not failed as never started meanwhile
SYNC_RETRY_COUNTDOWN = 30
SYNC_RETRY_COUNTDOWN_MAX = 120
BEAT = "beat"


def sync_retries(*, full: bool, triggered_by: str) -> int:
    if triggered_by != BEAT:
        return SYNC_RETRIES_ASKED
    return SYNC_RETRIES_NIGHTLY if full else 0


# Idempotent (refetch + upsert), acknowledged late; retried (see `sync_retries`) reusing
# the same SyncRun row, so one request shows as one run however many attempts it takes.
@shared_task(
    bind=True,
    name="portouts.tasks.sync_portouts_task",
    acks_late=True,
    max_retries=SYNC_RETRIES_NIGHTLY,
)
def sync_portouts_task(
    self: Any, full: bool = False, triggered_by: str = BEAT, run_id: int | None = None
) -> int | None:
    """Run a full or incremental sync; returns the SyncRun id (None when one was running)."""
    from portouts import sync, telnyx

    kind = "full" if full else "incremental"
    started: list[int] = []

    def note_run(run: Any) -> None:
        if not started:
            started.append(run.pk)

    run_sync = sync.run_full_sync if full else sync.run_incremental_sync
    try:
        run = run_sync(triggered_by=triggered_by, run_id=run_id, on_progress=note_run)
    except sync.SyncAlreadyRunning:
        logger.info("A sync is already running; this %s sync is skipped", kind)
        sync.abandon_run(run_id, reason="Another sync was already running.")
        return None
    except sync.SyncTakenOver:
        logger.warning("This %s sync lost its lock to another sync and stopped", kind)
        return started[0] if started else run_id
    except telnyx.APIError as exc:
        if not exc.retryable:
            raise
        run_pk = started[0] if started else run_id
        allowed = sync_retries(full=full, triggered_by=triggered_by)
        if allowed == 0:
            logger.warning("The %s sync failed (%s); the next beat retries it", kind, exc)
            return run_pk
        if self.request.retries >= allowed:
            raise
        if run_pk is not None:
            sync.reopen_run(run_pk, reason=str(exc))
        countdown = min(SYNC_RETRY_COUNTDOWN * 2**self.request.retries, SYNC_RETRY_COUNTDOWN_MAX)
        raise self.retry(
            exc=TransientTelnyxError(str(exc)),
            countdown=countdown,
            max_retries=allowed,
            kwargs={"full": full, "triggered_by": triggered_by, "run_id": run_pk},
        ) from exc
    return run.pk


# Acknowledged late (a worker that dies mid-refresh leaves it on the queue) and never
# retried by Celery: a refresh that fails leaves its events owed to the next incremental sync,
# so the client's retries are the only ones (worst case: see portouts.sync.refresh).
@shared_task(name="portouts.tasks.refresh_portout_task", acks_late=True, ignore_result=True)
def refresh_portout_task(portout_id: str, event_id: str | None = None) -> None:
    """Bring one port-out to the state Telnyx holds (after one or more webhooks).

    `event_id` is accepted for messages queued before refreshes were coalesced."""
    from portouts import sync

    sync.handle_event(portout_id)


# Review ----------------------------------------------------------------------------------


@shared_task(name="portouts.tasks.reconcile_review_actions_task", ignore_result=True)
def reconcile_review_actions_task() -> dict[str, int]:
    """Beat: settle decisions whose web request died half-way (rows left "started")."""
    from portouts.review.reconcile import review_actions_reconcile

    return review_actions_reconcile()


# Alerts ----------------------------------------------------------------------------------


@shared_task(name="portouts.tasks.alerts_evaluate_task", ignore_result=True)
def alerts_evaluate_task() -> dict[str, int]:
    """Beat: due-soon, overdue and sync rules, escalations, and the delivery sweep."""
    from django.core.cache import cache

    from portouts.alerts.evaluate import alerts_evaluate

    # One evaluation at a time; the dedup key would keep a second one harmless anyway.
    if not cache.add("alerts:evaluate:lock", "1", timeout=300):
        return {}
    try:
        return alerts_evaluate()
    finally:
        cache.delete("alerts:evaluate:lock")


# Acknowledged late so a worker lost before its claim leaves the message to another; the
# claim (see portouts.alerts.delivery) makes a second delivery of the message send nothing.
@shared_task(name="portouts.tasks.deliver_notification_task", acks_late=True, ignore_result=True)
def deliver_notification_task(notification_id: int) -> str | None:
    """Send one notification (retries are queued by the service with their backoff)."""
    from portouts.alerts.delivery import notification_deliver

    return notification_deliver(notification_id)


# Metrics ---------------------------------------------------------------------------------


@shared_task(name="portouts.tasks.metrics_weekly_summary_task", ignore_result=True)
def metrics_weekly_summary_task() -> int:
    """Beat, hourly: send last week's summary once it is due (at most once a week)."""
    from portouts.metrics.weekly import weekly_summary_send

    return weekly_summary_send()
