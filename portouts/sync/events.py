"""Storing Telnyx events and settling them: the one rule that marks an event processed."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from portouts import telnyx
from portouts.models import PortOut, PortOutEvent
from portouts.sync.store import BATCH_SIZE

logger = logging.getLogger("portouts.sync")


def _without_nul(value: Any) -> Any:
    """The payload with NUL characters replaced (U+FFFD): PostgreSQL's JSON columns refuse
    them, and a signed event must be stored, not answered with a 500."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, dict):
        return {_without_nul(k): _without_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_nul(v) for v in value]
    return value


def store_events(
    events: Iterable[telnyx.EventData], *, source: str = PortOutEvent.Source.API
) -> list[str]:
    """Insert events not stored yet (idempotent on id); return the ids that were new."""
    rows: dict[str, PortOutEvent] = {}
    for e in events:
        if not e.id:
            logger.warning("Skipping an event without an id: %.200r", e.raw)
            continue
        if len(e.id) > PortOutEvent.ID_MAX_LENGTH:
            logger.warning("Skipping an event whose id is too long: %.80r", e.id)
            continue
        rows[e.id] = PortOutEvent(
            id=e.id,
            event_type=(e.event_type or "")[:64],
            portout_id=(e.portout_id or _payload_portout_id(e.event_type, e.payload) or "")[:64],
            payload=_without_nul(e.payload),
            payload_status=(e.payload_status or "")[:32],
            available_notification_methods=e.available_notification_methods,
            created_at=e.created_at,
            updated_at=e.updated_at,
            source=source,
        )
    if not rows:
        return []
    known = set(PortOutEvent.objects.filter(id__in=list(rows)).values_list("id", flat=True))
    new = [r for k, r in rows.items() if k not in known]
    PortOutEvent.objects.bulk_create(new, ignore_conflicts=True, batch_size=BATCH_SIZE)
    return [r.id for r in new]


def store_webhook_event(event: telnyx.WebhookEvent) -> bool:
    """Record a verified webhook delivery once; True when it was new (duplicates: False).

    The caller refuses ids longer than PortOutEvent.ID_MAX_LENGTH: they are stored whole.
    """
    portout_id = (event.portout_id or "")[:64]
    _, created = PortOutEvent.objects.get_or_create(
        id=event.id,
        defaults={
            "event_type": event.event_type[:64],
            "portout_id": portout_id,
            "payload": _without_nul(event.payload),
            "created_at": event.occurred_at,
            "source": PortOutEvent.Source.WEBHOOK,
        },
    )
    return created


def _payload_portout_id(event_type: str | None, payload: dict[str, Any]) -> str | None:
    key = "portout_id" if event_type == telnyx.EVENT_NEW_COMMENT else "id"
    value = payload.get(key)
    return str(value) if value else None


def mark_reflected_events(
    *, gone: Iterable[str] = (), read_began: datetime | None = None, now: datetime | None = None
) -> int:
    """Mark processed every event whose effect the cache now holds, in one UPDATE.

    The one rule of the sync: an event is processed once its port-out was read in full by a
    read that began after the event was received (`details_synced_at >= received_at`), or
    flagged vanished after it; an event naming no port-out announces nothing to store.
    `gone` lists ids Telnyx answered 404 for that a read beginning at `read_began` found:
    their earlier events are settled too, whether or not the cache ever held the port-out.
    Both times are ours (never Telnyx's clock), so clock skew cannot mark an event early.
    """
    reflected = PortOut.objects.filter(pk=OuterRef("portout_id")).filter(
        Q(details_synced_at__gte=OuterRef("received_at"))
        | Q(vanished_at__gte=OuterRef("received_at"))
    )
    settled = Q(portout_id="") | Q(Exists(reflected))
    gone = list(gone)
    if gone and read_began is not None:
        settled |= Q(portout_id__in=gone, received_at__lte=read_began)
    return (
        PortOutEvent.objects.filter(processed_at__isnull=True)
        .filter(settled)
        .update(processed_at=now or timezone.now())
    )
