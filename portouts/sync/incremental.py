"""The incremental sync: what changed since the last successful run, and whatever an earlier
run still owes.

1. Events since the event high-water mark (minus OVERLAP) are stored, unprocessed if new.
2. Port-outs inserted since the inserted-at mark are listed, after step 1.
3. Every port-out owed a read is read in full (row, comments, documents, codes while
   pending): those of unprocessed events, whichever run stored them (a webhook whose
   refresh never ran, a killed run, a read that failed), those marked `details_stale`, and
   listed ones that are new or changed. Each read begins after step 1, so
   `mark_reflected_events` can then settle the events it covers; what fails stays owed.
   Once the cache holds an inventory (a full sync read it), a complete read includes the
   port-out's numbers (`filter[phone_number]`), stored in the same transaction; a number
   whose read fails marks its port-out `details_stale`.

Its cost grows with the number of changes, not with the size of the account.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from portouts import telnyx
from portouts.models import PhoneNumber, PortOut, PortOutEvent, SyncRun
from portouts.sync.events import (
    mark_reflected_events,
    store_events,
)
from portouts.sync.fetch import _each_page, _full_plan
from portouts.sync.full import DETAIL_WORKERS, run_full_sync
from portouts.sync.numbers import read_numbers, store_number_reads
from portouts.sync.runs import _clamp, _execute, _latest, _Run, last_successful_run
from portouts.sync.store import (
    OVERLAP,
    _existing,
    _store_batch,
    flag_vanished,
    mark_details_stale,
)

logger = logging.getLogger("portouts.sync")

#: most port-outs one incremental run reads in full; the rest stay owed to the next run
#: (a minute later), so a backlog never makes one run outlast its lock
READ_LIMIT = 500


def run_incremental_sync(
    *,
    triggered_by: str = "",
    client: telnyx.TelnyxClient | None = None,
    run_id: int | None = None,
    on_progress: Callable[[SyncRun], None] | None = None,
) -> SyncRun:
    """Fetch what changed since the last successful run; a full sync when there is none."""
    previous = last_successful_run()
    if previous is None or previous.event_high_water is None:
        return run_full_sync(
            triggered_by=triggered_by, client=client, run_id=run_id, on_progress=on_progress
        )
    return _execute(
        SyncRun.Kind.INCREMENTAL,
        lambda state: _incremental_body(state, previous),
        triggered_by=triggered_by,
        client=client,
        run_id=run_id,
        on_progress=on_progress,
    )


def owed_reads(limit: int = READ_LIMIT) -> list[str]:
    """Port-outs the cache owes a complete read: those of unprocessed events (oldest
    first), then those whose last read failed."""
    owed: dict[str, None] = {}
    unprocessed = (
        PortOutEvent.objects.filter(processed_at__isnull=True)
        .exclude(portout_id="")
        .order_by("received_at")
        .values_list("portout_id", flat=True)
    )
    for pid in unprocessed[: limit * 10].iterator():
        owed.setdefault(pid, None)
        if len(owed) >= limit:
            return list(owed)
    stale = PortOut.objects.filter(details_stale=True).values_list("id", flat=True)
    for pid in stale[:limit]:
        owed.setdefault(pid, None)
    return list(owed)[:limit]


def _listed[T](state: _Run, method: Callable[..., telnyx.Page[T]], **filters: Any) -> dict[str, T]:
    """Every item of a listing, by id, across its pages."""
    api = state.api
    items: dict[str, T] = {}
    for page in _each_page(lambda number: api.call(method, page_number=number, **filters)):
        items.update((i.id, i) for i in page.data if getattr(i, "id", None))  # type: ignore[attr-defined]
    return items


def _store_events_since(state: _Run, since: datetime) -> list[datetime | None]:
    """Store the events Telnyx lists since `since` (new ones unprocessed); their times."""
    events = _listed(state, state.api.client.list_events_page, created_at_gte=since)
    state.count("events", len(events))
    with transaction.atomic():
        store_events(events.values())
    return [e.created_at for e in events.values()]


def _inserted_since(state: _Run, since: datetime) -> dict[str, telnyx.PortoutData]:
    """Port-outs inserted since `since` (newest first, usually a single page)."""
    return _listed(state, state.api.client.list_portouts_page, inserted_at_gte=since)


def _read_numbers_of(
    state: _Run, numbers_of: dict[str, list[str]], pool: ThreadPoolExecutor
) -> tuple[dict[str, telnyx.PhoneNumberData | None], list[str]]:
    """The inventory records of the numbers of the port-outs read in full, and the
    port-outs one of whose numbers could not be read. Nothing is read before a full sync
    has built the inventory (until then there is nothing to keep up to date)."""
    if not numbers_of or not PhoneNumber.objects.exists():
        return {}, []
    wanted = [n for numbers in numbers_of.values() for n in numbers]
    before = state.api.requests
    found, failed = read_numbers(state.api, wanted, pool=pool)
    state.count("inventory_requests", state.api.requests - before)
    unread = set(failed)
    return found, [pid for pid, numbers in numbers_of.items() if unread.intersection(numbers)]


def _incremental_body(state: _Run, previous: SyncRun) -> dict[str, datetime | None]:
    api = state.api
    started = timezone.now()
    inserted_since = (previous.inserted_at_high_water or previous.started_at) - OVERLAP
    events_since = (previous.event_high_water or previous.started_at) - OVERLAP

    # 1. Events since the last mark, stored before any read; 2. port-outs inserted since.
    event_high = _latest(previous.event_high_water, _store_events_since(state, events_since))
    read_began = timezone.now()
    listed = _inserted_since(state, inserted_since)
    inserted_high = _latest(
        previous.inserted_at_high_water, (p.inserted_at for p in listed.values())
    )

    # 3. Read in full every port-out owed a read, once.
    owed = owed_reads()
    existing = _existing(set(owed) | set(listed))
    to_get = [pid for pid in owed if pid not in listed]
    state.progress(done=0, total=len(listed) + len(to_get))
    with ThreadPoolExecutor(DETAIL_WORKERS, thread_name_prefix="sync-detail") as pool:
        found, gone, unread = api.get_portouts(to_get, pool=pool)
        owed_set = set(owed)
        plan: dict[str, set[str]] = {pid: _full_plan(p) for pid, p in found.items()}
        for pid, p in listed.items():
            prev = existing.get(pid)
            if (
                pid in owed_set
                or prev is None
                or prev.details_synced_at is None
                or prev.updated_at != p.updated_at
                or prev.status != p.status
            ):
                plan[pid] = _full_plan(p)
        details, failed = api.fetch_details(plan, pool=pool)
        read = {pid: (found.get(pid) or listed[pid]).phone_numbers for pid in details}
        numbers, numbers_failed = _read_numbers_of(state, read, pool)
    items = [*listed.values(), *found.values()]
    now = timezone.now()
    with transaction.atomic():
        result = _store_batch(items, now, details, existing, read_began=read_began)
        stored, vanished = store_number_reads(numbers, now=now)
        failed = [*failed, *numbers_failed]
        state.count("details_stale", mark_details_stale([*unread, *failed]))
    state.add_store(result)
    state.count("details_fetched", len(details))
    state.count("comments", sum(len(d.comments or ()) for d in details.values()))
    state.count("numbers", stored)
    state.count("numbers_vanished", vanished)
    if gone:
        state.count("vanished", flag_vanished(gone, now=now))
    state.count("events_processed", mark_reflected_events(gone=gone, read_began=read_began))
    state.progress(done=len(items))
    return {
        "inserted_at_high_water": _clamp(inserted_high, started),
        "event_high_water": _clamp(event_high, started),
    }
