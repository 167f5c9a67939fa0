"""Refetching one port-out: after a webhook (coalesced), after a review action.

Worst case per webhook refresh: (1 + TELNYX_MAX_RETRIES) attempts for each of its requests
(the port-out's event pages, the port-out, its comments, documents and, while pending, its
rejection codes): 4 × 5 = 20 HTTP attempts with the defaults and one page of events (a
port-out has a handful of events; a page holds 250). The task is not retried by
Celery on top: a refresh that fails leaves the port-out `details_stale` and its events
unprocessed, and the next incremental sync (a minute later) reads it again.
"""

from __future__ import annotations

import logging

from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone

from portouts import telnyx
from portouts.metrics.facts import facts_refresh
from portouts.models import PortOut
from portouts.sync.events import (
    mark_reflected_events,
    store_events,
)
from portouts.sync.fetch import _Api, _each_page, _full_plan
from portouts.sync.store import (
    _store_batch,
    flag_vanished,
    mark_details_stale,
)
from portouts.tasks import refresh_portout_task

logger = logging.getLogger("portouts.sync")

#: seconds a webhook's refresh waits, so a burst of webhooks for one port-out (a status
#: change, its comment, an FOC change) causes one refresh instead of one each
COALESCE_SECONDS = 3
#: how long a queued refresh counts as due: if its worker is that late, the next webhook
#: queues another (harmless: refreshes are idempotent)
DUE_TTL = COALESCE_SECONDS + 60


def _due_key(portout_id: str) -> str:
    return f"portouts:refresh-due:{connection.settings_dict['NAME']}:{portout_id}"


def refresh_portout_soon(portout_id: str) -> bool:
    """Queue a refresh of the port-out in COALESCE_SECONDS unless one is already due;
    True when this call queued it.

    The refresh reads Telnyx after every webhook that found it due (it clears the mark
    before reading), so none is left behind. A cache outage queues one refresh per webhook.
    """
    try:
        first = bool(cache.add(_due_key(portout_id), "1", timeout=DUE_TTL))
    except Exception:  # noqa: BLE001 - the cache is an optimisation here, not a need
        logger.warning(
            "The cache is unreachable; refreshing port-out %s without coalescing", portout_id
        )
        first = True
    if first:
        refresh_portout_task.apply_async((portout_id,), countdown=COALESCE_SECONDS)
    return first


def _clear_due(portout_id: str) -> None:
    try:
        cache.delete(_due_key(portout_id))
    except Exception:  # noqa: BLE001 - see refresh_portout_soon
        logger.warning("The cache is unreachable; could not clear the refresh mark")


def refresh_portout(
    portout_id: str, *, client: telnyx.TelnyxClient | None = None, details: bool = True
) -> PortOut:
    """Read one port-out again and store it; with `details`, read it in full (its events,
    comments, documents, rejection codes) and settle the events the read covers.

    Without details (after a review action) only the port-out's row is read.
    Raises telnyx.NotFoundError when Telnyx no longer has it, after flagging it vanished,
    and other API errors of the port-out's own read. Details that cannot be read leave the
    port-out `details_stale` (the next sync reads it again) and its events unprocessed.
    """
    api = _Api(client or telnyx.get_client())
    if details:
        events: list[telnyx.EventData] = []
        for page in _each_page(
            lambda number: api.call(
                api.client.list_events_page, page_number=number, portout_id=portout_id
            )
        ):
            events.extend(page.data)
        with transaction.atomic():
            store_events(events)
    read_began = timezone.now()
    try:
        portout = api.call(api.client.get_portout, portout_id)
    except telnyx.NotFoundError:
        flag_vanished([portout_id])
        mark_reflected_events(gone=[portout_id], read_began=read_began)
        raise
    if not portout.id:
        raise telnyx.APIResponseValidationError(
            f"Telnyx answered GET /portouts/{portout_id} without an id."
        )
    fetched, failed = (
        api.fetch_details({portout.id: _full_plan(portout)}, pool=None) if details else ({}, [])
    )
    with transaction.atomic():
        _store_batch([portout], timezone.now(), fetched, read_began=read_began)
        mark_details_stale(failed)
    if fetched:
        mark_reflected_events()
    if failed:
        logger.warning(
            "Port-out %s was read but not its details; the next sync retries", portout.id
        )
    facts_refresh([portout.id])
    return PortOut.objects.get(id=portout.id)


def handle_event(portout_id: str, *, client: telnyx.TelnyxClient | None = None) -> PortOut | None:
    """Bring the cache to the state the API holds after a webhook.

    Always refetches rather than applying the event, so duplicate, late and out-of-order
    deliveries all end in the API's current state. Returns None when the port-out is gone
    or could not be read (then the next incremental sync reads it: its events stay owed).
    """
    _clear_due(portout_id)
    try:
        return refresh_portout(portout_id, client=client, details=True)
    except telnyx.NotFoundError:
        logger.info("Port-out %s is gone from Telnyx; flagged as vanished", portout_id)
    except telnyx.APIError as exc:
        logger.warning(
            "Refreshing port-out %s failed; the next sync retries it: %s", portout_id, exc
        )
    return None
