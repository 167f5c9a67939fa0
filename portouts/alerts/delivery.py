"""Delivery: one row per notification, written in the caller's transaction and sent by a
worker after commit.

The guarantee: **at most once per notification, and never lost silently.** A worker claims
a row (pending → sending, attempts + 1, a lease) in its own committed UPDATE before it
talks to the channel; only the worker whose UPDATE matched sends. A failed send goes back
to pending with a backoff, or to failed after ALERTS_MAX_ATTEMPTS, with the reason. A worker
that dies before its claim leaves the row pending, and the beat's sweep sends it. One that
dies after its claim (during the send itself: the message may or may not have left) leaves
a row "sending" whose lease runs out; the sweep marks it uncertain (shown in the delivery
log and the staff footer) and never sends it again, since sending twice is what must not
happen.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from portouts.alerts.channels import DeliveryFailed, channel_send, email_send
from portouts.choices import NotificationState
from portouts.models import Notification

logger = logging.getLogger("portouts.alerts")

#: a pending row younger than this is left to the task queued for it
SWEEP_GRACE = timedelta(seconds=30)


def notifications_store(rows: list[Notification]) -> list[int]:
    """Insert the rows not already there (by dedup key) in the current transaction and queue
    their sending after commit; returns the ids of rows inserted now."""
    if not rows:
        return []
    keys = [r.dedup_key for r in rows]
    held = set(Notification.objects.filter(dedup_key__in=keys).values_list("dedup_key", flat=True))
    fresh = {r.dedup_key: r for r in rows if r.dedup_key not in held}
    if not fresh:
        return []
    # A concurrent evaluation may insert the same keys meanwhile: the constraint keeps one.
    Notification.objects.bulk_create(fresh.values(), ignore_conflicts=True)
    new = list(
        Notification.objects.filter(
            dedup_key__in=list(fresh), state=NotificationState.PENDING, attempts=0
        ).values_list("id", flat=True)
    )
    if new:
        transaction.on_commit(lambda: _queue(new))
    created = Notification.objects.filter(dedup_key__in=list(fresh)).values_list("id", flat=True)
    return list(created)


def _queue(ids: list[int], countdown: int = 0) -> None:
    from portouts.tasks import deliver_notification_task

    for pk in ids:
        try:
            deliver_notification_task.apply_async((pk,), countdown=countdown or None)  # type: ignore[arg-type]
        except Exception:  # noqa: BLE001 - the broker down: the sweep sends it later
            logger.warning("Could not queue notification %s; the next sweep sends it", pk)


def _claim(pk: int, now: datetime) -> bool:
    """Take the row for sending, committed before any byte leaves."""
    due = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    return bool(
        Notification.objects.filter(due, pk=pk, state=NotificationState.PENDING).update(
            state=NotificationState.SENDING,
            attempts=F("attempts") + 1,
            lease_until=now + timedelta(seconds=settings.ALERTS_SEND_LEASE),
        )
    )


def _send(row: Notification) -> None:
    if row.channel_id:
        assert row.channel is not None
        channel_send(row.channel, row.title, row.body)
    elif row.user_id and row.by_email:
        assert row.user is not None
        email_send([row.user.email], row.title, row.body)


def backoff(attempts: int) -> int:
    return int(settings.ALERTS_RETRY_BACKOFF * 2 ** max(attempts - 1, 0))


def notification_deliver(pk: int, *, now: datetime | None = None) -> str | None:
    """Send one notification if it is due and still pending; returns its new state."""
    now = now or timezone.now()
    if not _claim(pk, now):
        return None
    row = Notification.objects.select_related("channel", "user").get(pk=pk)
    sending = Notification.objects.filter(pk=pk, state=NotificationState.SENDING)
    try:
        _send(row)
    except DeliveryFailed as exc:
        reason = str(exc)
        if row.attempts >= settings.ALERTS_MAX_ATTEMPTS:
            sending.update(state=NotificationState.FAILED, last_error=reason, lease_until=None)
            logger.warning("Notification %s failed after %d attempts", pk, row.attempts)
            return NotificationState.FAILED
        delay = backoff(row.attempts)
        sending.update(
            state=NotificationState.PENDING,
            last_error=reason,
            lease_until=None,
            next_attempt_at=now + timedelta(seconds=delay),
        )
        _queue([pk], countdown=delay)
        return NotificationState.PENDING
    sending.update(
        state=NotificationState.SENT, sent_at=timezone.now(), lease_until=None, last_error=""
    )
    return NotificationState.SENT


def notifications_sweep(*, now: datetime | None = None) -> dict[str, int]:
    """Beat: queue pending rows whose task is gone (broker down, worker died before its
    claim) and mark rows whose sender died mid-send uncertain."""
    now = now or timezone.now()
    uncertain = Notification.objects.filter(
        state=NotificationState.SENDING, lease_until__lt=now
    ).update(
        state=NotificationState.UNCERTAIN,
        lease_until=None,
        last_error="The worker stopped while sending: it may or may not have been delivered, "
        "and it is not sent again so that it is never sent twice.",
    )
    due = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now - SWEEP_GRACE)
    stuck = list(
        Notification.objects.filter(due, state=NotificationState.PENDING)
        .filter(created_at__lte=now - SWEEP_GRACE)
        .values_list("id", flat=True)[:500]
    )
    _queue(stuck)
    return {"uncertain": uncertain, "requeued": len(stuck)}
