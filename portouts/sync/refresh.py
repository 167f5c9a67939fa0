"""Refetching one port-out (webhooks, after a review action)."""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from portouts import telnyx
from portouts.models import PortOut
from portouts.sync.fetch import _Api, _each_page, _full_plan
from portouts.sync.store import (
    Details,
    _store_batch,
    flag_vanished,
    mark_events_processed,
    store_events,
)

logger = logging.getLogger("portouts.sync")


def refresh_portout(
    portout_id: str, *, client: telnyx.TelnyxClient | None = None, details: bool = True
) -> PortOut:
    """Refetch one port-out (and its events, comments, documents, rejection codes) and
    store it.

    The events are listed before the port-out is read, so the stored port-out already
    reflects them and they are stored as processed.
    Raises telnyx.NotFoundError when Telnyx no longer has it, after flagging it vanished.
    """
    api = _Api(client or telnyx.get_client())
    events: list[telnyx.PortoutEvent] = []
    if details:
        for page in _each_page(
            lambda number: api.call(
                api.client.list_events_page, page_number=number, portout_id=portout_id
            )
        ):
            events.extend(page.data)
    try:
        portout = api.call(api.client.get_portout, portout_id)
    except telnyx.NotFoundError:
        flag_vanished([portout_id])
        raise
    fetched: dict[str, Details] = {}
    if details and portout.id:
        fetched = api.fetch_details({portout.id: _full_plan(portout)}, pool=None)
    if not portout.id:
        raise telnyx.APIResponseValidationError(
            f"Telnyx answered GET /portouts/{portout_id} without an id."
        )
    now = timezone.now()
    _store_batch([portout], now, fetched)
    if events:
        with transaction.atomic():
            store_events(events)
            mark_events_processed((e.id for e in events if e.id), now=now)
    return PortOut.objects.get(id=portout.id)


def handle_event(
    portout_id: str, *, event_id: str | None = None, client: telnyx.TelnyxClient | None = None
) -> PortOut | None:
    """Bring the cache to the state the API holds after an event (webhook or API).

    Always refetches rather than applying the event, so duplicate, late and out-of-order
    deliveries all end in the API's current state. Returns None when the port-out is gone.
    """
    try:
        row = refresh_portout(portout_id, client=client, details=True)
    except telnyx.NotFoundError:
        logger.info("Port-out %s is gone from Telnyx; flagged as vanished", portout_id)
        row = None
    if event_id:
        mark_events_processed([event_id])
    return row
