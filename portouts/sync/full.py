"""The full sync: a reconciliation of every port-out, whatever events were delivered.

Stages, and the invariant each keeps:

1. **Events of the window** (SYNC_EVENTS_WINDOW_DAYS) are stored, unprocessed: storing an
   event only adds it to the timeline; nothing is claimed about the cache yet.
2. **Every port-out is read in full**: the listing gives each row; comments and documents
   are read for every port-out (they change without `updated_at` moving) and rejection
   codes for every pending one. Each page is stored in one transaction with
   `details_synced_at` = when this run began reading, after stage 1. A port-out whose
   reads fail after the client's retries keeps its listing row and is marked
   `details_stale` (retried by the next run); the run goes on.
3. **The number inventory** is read in full (`numbers.sync_inventory`): one transaction
   per page, then numbers Telnyx no longer lists are flagged; a failed listing is counted
   (`inventory_failed`) and never fails the run.
4. **Vanished port-outs** are flagged (only when Telnyx confirms, see `_find_vanished`).
5. **Events are marked processed** by the one rule of `mark_reflected_events`, last: a run
   that dies before leaves every event unprocessed for the next run.

A run that fails or is killed keeps what it stored; the next full run resumes it
(`reconciling_since` is carried over), reading again only port-outs not read in full
since then, changed since, stale, or with events received after their read.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from portouts import telnyx
from portouts.models import PortOut, PortOutEvent, PortOutStatus, SyncRun
from portouts.risk.engine import risk_assess_stored
from portouts.sync.events import (
    mark_reflected_events,
    store_events,
)
from portouts.sync.fetch import _full_plan, _PageFetcher, listing_page
from portouts.sync.numbers import sync_inventory
from portouts.sync.runs import _clamp, _execute, _latest, _Run, last_successful_run
from portouts.sync.store import (
    OVERLAP,
    Details,
    StoreResult,
    _Existing,
    _existing,
    _store_batch,
    flag_vanished,
    mark_details_stale,
)

logger = logging.getLogger("portouts.sync")

#: threads fetching list pages, how many pages they fetch ahead of the one being stored,
#: and threads fetching comments/documents/rejection codes
PAGE_WORKERS = 4
PAGE_WINDOW = 2 * PAGE_WORKERS
DETAIL_WORKERS = 8
#: candidates for "vanished" are re-checked one by one up to this many (a page shift
#: while listing can hide a port-out that still exists)
VANISH_VERIFY_LIMIT = 50
#: a listing that misses more than this share of the cache is not trusted: every
#: candidate is checked by id instead of being flagged in bulk
VANISH_TRUST_FRACTION = 0.02
#: most port-outs checked by id per run when the listing is not trusted; the rest wait
#: for the next run (counted as "vanish_unchecked")
VANISH_CHECK_LIMIT = 500
#: a failed full run younger than this is resumed by the next full run, not started over
RESUME_WITHIN = timedelta(hours=24)


def run_full_sync(
    *,
    triggered_by: str = "",
    client: telnyx.TelnyxClient | None = None,
    run_id: int | None = None,
    on_progress: Callable[[SyncRun], None] | None = None,
) -> SyncRun:
    """Reconcile every port-out with Telnyx. Raises on failure (after recording the failed
    run); raises SyncAlreadyRunning when another sync runs."""
    return _execute(
        SyncRun.Kind.FULL,
        _full_body,
        triggered_by=triggered_by,
        client=client,
        run_id=run_id,
        on_progress=on_progress,
    )


def _events_window() -> timedelta:
    return max(timedelta(days=settings.SYNC_EVENTS_WINDOW_DAYS), OVERLAP)


def _resumed_since(run: SyncRun, now: datetime) -> datetime | None:
    """`reconciling_since` of the failed full run this one continues, if any: the newest
    full run before this one failed recently, after it had begun reading port-outs."""
    previous = (
        SyncRun.objects.filter(kind=SyncRun.Kind.FULL, started_at__lt=run.started_at)
        .exclude(pk=run.pk)
        .order_by("-started_at")
        .only("status", "reconciling_since")
        .first()
    )
    if (
        previous is not None
        and previous.status == SyncRun.Status.FAILED
        and previous.reconciling_since is not None
        and previous.reconciling_since > now - RESUME_WITHIN
    ):
        return previous.reconciling_since
    return None


def _store_window_events(state: _Run, pool: ThreadPoolExecutor, started: datetime) -> None:
    """Stage 1: store the events of the window, unprocessed, one transaction per page.
    Every page asks for the same closed range, so events arriving meanwhile do not shift
    the pages."""
    api = state.api
    since = started - _events_window()
    fetch = listing_page(
        lambda number: api.call(
            api.client.list_events_page,
            page_number=number,
            created_at_gte=since,
            created_at_lte=started,
        )
    )
    first = fetch(1)
    state.set_count("event_pages_total", first.meta.total_pages or 1)
    pages = _PageFetcher(pool, fetch, first, first.meta.total_pages or 1, window=PAGE_WINDOW)
    try:
        for page in pages:
            with transaction.atomic():
                store_events(page.data)
            state.count("events", len(page.data))
            state.count("event_pages")
            state.progress()
    finally:
        pages.cancel()


def _full_body(state: _Run) -> dict[str, datetime | None]:
    started = timezone.now()
    resumed = _resumed_since(state.run, started)
    with (
        ThreadPoolExecutor(PAGE_WORKERS, thread_name_prefix="sync-page") as pages_pool,
        ThreadPoolExecutor(DETAIL_WORKERS, thread_name_prefix="sync-detail") as detail_pool,
    ):
        _store_window_events(state, pages_pool, started)
        # Every read from here on began after the stage-1 events were received.
        read_began = timezone.now()
        state.save_reconciling_since(resumed or read_began)
        if resumed:
            state.count("resumed", 1)
        listing = _store_listing(state, pages_pool, detail_pool, read_began, resumed)
        sync_inventory(state, pages_pool)
    vanished = _find_vanished(state, listing.seen, read_began, listed_total=listing.total)
    state.count("vanished", flag_vanished(vanished, now=timezone.now()))
    state.count("events_processed", mark_reflected_events())
    # Pages are stored in listing order, so a request's history (earlier port-outs on its
    # numbers, its SPID) may have been stored after it: pending ones are assessed again.
    risk_assess_stored(PortOut.objects.pending().values_list("id", flat=True))
    inserted_high = listing.inserted_high
    previous = last_successful_run()
    if previous:
        inserted_high = _latest(inserted_high, [previous.inserted_at_high_water])
    return {
        "inserted_at_high_water": _clamp(inserted_high, started),
        # Events from the window's end on are listed by the next incremental run.
        "event_high_water": started,
    }


@dataclass
class _Listing:
    """What storing the whole listing saw: the ids, Telnyx's total, the newest inserted_at."""

    seen: set[str] = field(default_factory=set)
    total: int | None = None
    inserted_high: datetime | None = None


def _store_listing(
    state: _Run,
    pages_pool: ThreadPoolExecutor,
    detail_pool: ThreadPoolExecutor,
    read_began: datetime,
    resumed: datetime | None,
) -> _Listing:
    """Store every page of the port-out listing, a window of pages fetched ahead."""
    api = state.api

    def fetch_portouts(number: int) -> telnyx.Page[telnyx.PortoutData]:
        return api.call(api.client.list_portouts_page, page_number=number)

    fetch = listing_page(fetch_portouts)
    first = fetch(1)
    listing = _Listing(total=first.meta.total_results)
    state.set_count("pages_total", first.meta.total_pages or 1)
    state.progress(done=0, total=listing.total or len(first.data))
    pages = _PageFetcher(pages_pool, fetch, first, first.meta.total_pages or 1, window=PAGE_WINDOW)
    done = 0
    try:
        for page in pages:
            items = [p for p in page.data if p.id]
            _store_page(
                state,
                items,
                detail_pool,
                now=timezone.now(),
                read_began=read_began,
                reread_before=resumed or read_began,
            )
            listing.seen.update(p.id for p in items if p.id)
            listing.inserted_high = _latest(listing.inserted_high, (p.inserted_at for p in items))
            done += len(page.data)
            state.count("pages")
            state.progress(done=done)
    finally:
        pages.cancel()
    return listing


def _needs_read(
    pid: str,
    listed: telnyx.PortoutData,
    prev: _Existing | None,
    reread_before: datetime,
    late_events: set[str],
) -> bool:
    """Whether this reconciliation still has to read the port-out's details."""
    return (
        prev is None
        or prev.details_synced_at is None
        or prev.details_stale
        or prev.details_synced_at < reread_before
        or prev.updated_at != listed.updated_at
        or prev.status != listed.status
        or pid in late_events
    )


def _events_after_read(ids: Sequence[str], existing: dict[str, _Existing]) -> set[str]:
    """Port-outs with an unprocessed event received after their last complete read (one
    query): only a resumed run can skip a read, and it must not skip these."""
    rows = PortOutEvent.objects.filter(processed_at__isnull=True, portout_id__in=list(ids))
    late: set[str] = set()
    for pid, received in rows.values_list("portout_id", "received_at"):
        read = existing[pid].details_synced_at if pid in existing else None
        if read is None or received > read:
            late.add(pid)
    return late


def _store_page(
    state: _Run,
    items: Sequence[telnyx.PortoutData],
    detail_pool: ThreadPoolExecutor | None,
    *,
    now: datetime,
    read_began: datetime,
    reread_before: datetime,
) -> StoreResult:
    """Store one page: read what we hold (2 queries), read details where this
    reconciliation has not (API, in threads), then write everything in one transaction."""
    unique = {p.id: p for p in items if p.id}
    existing = _existing(unique)
    late = _events_after_read(list(unique), existing) if reread_before < read_began else set()
    need = [
        pid
        for pid, p in unique.items()
        if _needs_read(pid, p, existing.get(pid), reread_before, late)
    ]
    details: dict[str, Details] = {}
    failed: list[str] = []
    if need:
        plan = {pid: _full_plan(unique[pid]) for pid in need}
        details, failed = state.api.fetch_details(plan, pool=detail_pool)
        state.count("comments", sum(len(d.comments or ()) for d in details.values()))
        state.count("documents", sum(len(d.documents or ()) for d in details.values()))
        state.count("details_fetched", len(details))
    with transaction.atomic():
        result = _store_batch(list(unique.values()), now, details, existing, read_began=read_began)
        state.count("details_stale", mark_details_stale(failed))
    state.add_store(result)
    return result


def _find_vanished(
    state: _Run, seen: set[str], started: datetime, *, listed_total: int | None
) -> list[str]:
    """Port-outs present in the cache, stored before this run, not listed by it, and
    confirmed gone.

    A listing is trusted only when it held as many port-outs as its first page announced
    and misses at most VANISH_TRUST_FRACTION of the cache: a short or empty answer from
    Telnyx, or rows shifting between pages, must never hide pending port-outs. A trusted
    listing's candidates are flagged in bulk (a few are checked by id anyway, cheaply);
    otherwise each candidate is read by id and only those Telnyx answers 404 for are
    flagged, at most VANISH_CHECK_LIMIT per run (pending ones first), the rest waiting
    for the next run. A candidate found again is stored instead.
    """
    candidates, cached = _unlisted(seen, started)
    if not candidates:
        return []
    short = listed_total is not None and len(seen) < listed_total
    too_many = len(candidates) > VANISH_TRUST_FRACTION * cached
    if len(candidates) > VANISH_VERIFY_LIMIT and not short and not too_many:
        logger.warning(
            "%d cached port-outs were not listed by Telnyx; flagging them vanished",
            len(candidates),
        )
        return candidates
    if short or too_many:
        logger.warning(
            "Telnyx listed %d port-outs (it announced %s) and %d cached ones were missing; "
            "checking them one by one instead of flagging them vanished",
            len(seen),
            listed_total,
            len(candidates),
        )
    return _gone_by_id(state, candidates)


def _unlisted(seen: set[str], started: datetime) -> tuple[list[str], int]:
    """Cached port-outs stored before this run and not listed by it (pending ones first),
    and how many port-outs the cache holds."""
    present = PortOut.objects.present().filter(synced_at__lt=started)
    candidates: list[str] = []
    pending: list[str] = []
    cached = len(seen)  # stored by this run (synced_at >= started)
    for pid, status in present.values_list("id", "status").iterator(chunk_size=5000):
        cached += 1
        if pid not in seen:
            (pending if status == PortOutStatus.PENDING else candidates).append(pid)
    return pending + candidates, cached


def _gone_by_id(state: _Run, candidates: list[str]) -> list[str]:
    """Read candidates by id (VANISH_CHECK_LIMIT per run): those Telnyx answers 404 for are
    gone; those found are stored again; the rest wait for the next run."""
    check, later = candidates[:VANISH_CHECK_LIMIT], candidates[VANISH_CHECK_LIMIT:]
    if later:
        logger.warning(
            "%d port-outs missing from the listing are left for the next run to check",
            len(later),
        )
    read_began = timezone.now()
    with ThreadPoolExecutor(DETAIL_WORKERS, thread_name_prefix="sync-vanish") as pool:
        found, gone, failed = state.api.get_portouts(check, pool=pool)
        if found:
            _store_page(
                state,
                list(found.values()),
                pool,
                now=timezone.now(),
                read_began=read_began,
                reread_before=read_began,
            )
    state.count("vanish_checked", len(check))
    state.count("vanish_unchecked", len(later) + len(failed))
    return gone
