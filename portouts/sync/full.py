"""The full sync: every port-out, and the events of the last SYNC_EVENTS_WINDOW_DAYS."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from portouts import telnyx
from portouts.models import PortOut, PortOutStatus, SyncRun
from portouts.sync.fetch import _full_plan, _PageFetcher
from portouts.sync.runs import _clamp, _execute, _latest, _Run, last_successful_run
from portouts.sync.store import (
    OVERLAP,
    Details,
    StoreResult,
    _existing,
    _store_batch,
    flag_vanished,
    mark_events_processed,
    store_events,
)

logger = logging.getLogger("portouts.sync")

#: threads fetching list pages, how many pages they fetch ahead of the one being stored,
#: and threads fetching comments/documents/rejection codes
PAGE_WORKERS = 4
PAGE_WINDOW = 2 * PAGE_WORKERS
DETAIL_WORKERS = 8
#: days of events a full sync stores when SYNC_EVENTS_WINDOW_DAYS is not set
EVENTS_WINDOW_DAYS = 30
#: candidates for "vanished" are re-checked one by one up to this many (a page shift
#: while listing can hide a port-out that still exists)
VANISH_VERIFY_LIMIT = 50
#: a listing that misses more than this share of the cache is not trusted: every
#: candidate is checked by id instead of being flagged in bulk
VANISH_TRUST_FRACTION = 0.02
#: most port-outs checked by id per run when the listing is not trusted; the rest wait
#: for the next run (counted as "vanish_unchecked")
VANISH_CHECK_LIMIT = 500


def run_full_sync(
    *,
    triggered_by: str = "",
    client: telnyx.TelnyxClient | None = None,
    run_id: int | None = None,
    on_progress: Callable[[SyncRun], None] | None = None,
) -> SyncRun:
    """Fetch every port-out, store what changed, flag what vanished. Raises on failure
    (after recording the failed run); raises SyncAlreadyRunning when another sync runs."""
    return _execute(
        SyncRun.Kind.FULL,
        _full_body,
        triggered_by=triggered_by,
        client=client,
        run_id=run_id,
        on_progress=on_progress,
    )


def _events_window() -> timedelta:
    days = getattr(settings, "SYNC_EVENTS_WINDOW_DAYS", EVENTS_WINDOW_DAYS)
    # Never less than OVERLAP: the next incremental run relies on those being processed.
    return max(timedelta(days=days), OVERLAP)


def _store_window_events(
    state: _Run, pool: ThreadPoolExecutor, started: datetime
) -> datetime | None:
    """Store the events of the last SYNC_EVENTS_WINDOW_DAYS as already processed, one
    transaction per page, and return the newest one's time (Telnyx's clock).

    Called before the port-out listing starts: the listing reads every port-out after
    these events, so none of them needs a refetch, and the next incremental run, which
    looks back OVERLAP before the mark, does not refetch for them. Every page asks for the
    same closed range, so events arriving meanwhile do not shift the pages.
    """
    api = state.api
    since = started - _events_window()

    def fetch(number: int) -> telnyx.Page[telnyx.PortoutEvent]:
        return api.call(
            api.client.list_events_page,
            page_number=number,
            created_at_gte=since,
            created_at_lte=started,
        )

    first = fetch(1)
    newest: datetime | None = None
    pages = _PageFetcher(pool, fetch, first, first.meta.total_pages or 1, window=PAGE_WINDOW)
    try:
        for page in pages:
            with transaction.atomic():
                store_events(page.data)
                mark_events_processed((e.id for e in page.data if e.id), now=started)
            newest = _latest(newest, (e.created_at for e in page.data))
            state.count("events", len(page.data))
            state.progress()
    finally:
        pages.cancel()
    return newest


def _full_body(state: _Run) -> dict[str, datetime | None]:
    api = state.api
    started = timezone.now()

    def fetch(number: int) -> telnyx.Page[telnyx.Portout]:
        return api.call(api.client.list_portouts_page, page_number=number)

    seen: set[str] = set()
    listed_total: int | None = None
    inserted_high: datetime | None = None
    done = 0
    with (
        ThreadPoolExecutor(PAGE_WORKERS, thread_name_prefix="sync-page") as pages_pool,
        ThreadPoolExecutor(DETAIL_WORKERS, thread_name_prefix="sync-detail") as detail_pool,
    ):
        # Events from now on are picked up by the next incremental run.
        event_mark = _store_window_events(state, pages_pool, started) or started
        first = fetch(1)
        listed_total = first.meta.total_results
        state.progress(done=0, total=first.meta.total_results or len(first.data))
        pages = _PageFetcher(
            pages_pool, fetch, first, first.meta.total_pages or 1, window=PAGE_WINDOW
        )
        try:
            for page in pages:
                items = [p for p in page.data if p.id]
                _store_page(state, items, detail_pool, started)
                seen.update(p.id for p in items if p.id)
                inserted_high = _latest(inserted_high, (p.inserted_at for p in items))
                done += len(page.data)
                state.progress(done=done)
        finally:
            pages.cancel()
    vanished = _find_vanished(state, seen, started, listed_total=listed_total)
    state.count("vanished", flag_vanished(vanished, now=timezone.now()))
    previous = last_successful_run()
    if previous:
        inserted_high = _latest(inserted_high, [previous.inserted_at_high_water])
    return {
        "inserted_at_high_water": _clamp(inserted_high, started),
        "event_high_water": _clamp(event_mark, started),
    }


def _store_page(
    state: _Run,
    items: Sequence[telnyx.Portout],
    detail_pool: ThreadPoolExecutor | None,
    now: datetime,
) -> StoreResult:
    """Store one page: read what we hold (1 query), fetch details where needed (API, in
    threads), then write everything in one transaction."""
    unique = {p.id: p for p in items if p.id}
    existing = _existing(unique)
    need: list[str] = []
    for pid, p in unique.items():
        prev = existing.get(pid)
        if (
            prev is None
            or prev.details_synced_at is None
            or prev.updated_at != p.updated_at
            or prev.status != p.status
        ):
            need.append(pid)
    details: dict[str, Details] = {}
    if need:
        plan = {pid: _full_plan(unique[pid]) for pid in need}
        details = state.api.fetch_details(plan, pool=detail_pool)
        state.count("comments", sum(len(d.comments or ()) for d in details.values()))
        state.count("documents", sum(len(d.documents or ()) for d in details.values()))
        state.count("details_fetched", len(details))
    result = _store_batch(list(unique.values()), now, details, existing)
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
    present = PortOut.objects.present().filter(synced_at__lt=started)
    rows = present.values_list("id", "status")
    candidates: list[str] = []
    pending: list[str] = []
    cached = 0
    for pid, status in rows.iterator(chunk_size=5000):
        cached += 1
        if pid not in seen:
            (pending if status == PortOutStatus.PENDING else candidates).append(pid)
    candidates = pending + candidates  # the ones that matter most are checked first
    if not candidates:
        return []
    cached += len(seen)  # stored by this run (synced_at >= started)
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
    check, later = candidates[:VANISH_CHECK_LIMIT], candidates[VANISH_CHECK_LIMIT:]
    if later:
        logger.warning(
            "%d port-outs missing from the listing are left for the next run to check",
            len(later),
        )
    with ThreadPoolExecutor(DETAIL_WORKERS, thread_name_prefix="sync-vanish") as pool:
        found, gone, failed = state.api.get_portouts(check, pool=pool)
    state.count("vanish_checked", len(check))
    state.count("vanish_unchecked", len(later) + len(failed))
    if found:
        _store_page(state, list(found.values()), None, timezone.now())
    return gone
