"""The sync service: keeps the local cache of Telnyx port-outs true to the API.

Telnyx owns the data; this package is the only writer of PortOut, PortOutNumber, Comment,
SupportingDocument, RejectionCode and (API-sourced) PortOutEvent rows.

* `run_full_sync` pages through every port-out (page 1 tells the page count, the rest
  are fetched by a small thread pool), stores each page in one transaction with a constant
  number of queries, fetches comments/documents/rejection codes only where something
  changed, and flags port-outs Telnyx no longer lists (`vanished_at`, never deleted);
  a listing that looks short is not trusted: each missing port-out is read by id and
  flagged only when Telnyx answers 404.
  Before the listing it stores the events of the last SYNC_EVENTS_WINDOW_DAYS (paged the
  same way; the port-out timeline shows them), marked processed: the listing reads every
  port-out after them.
* `run_incremental_sync` asks only for what changed since the last successful run:
  port-outs inserted since the inserted-at high-water mark and events since the event
  high-water mark (both minus an overlap), so its cost grows with the number of changes.
* `refresh_portout` refetches one port-out (webhooks, after a review action), with its
  events when it fetches details.

Every write happens in the main thread; worker threads only talk HTTP. A run stopped at
any point leaves the cache consistent (each page is one transaction) and the high-water
marks only move on success, so the next run catches up.

The package, by concern: `store` (writing rows), `fetch` (talking to Telnyx: counting,
concurrency, paging), `runs` (the lock and SyncRun records), `full`, `incremental` and
`refresh` (the three ways of syncing). Callers import from `portouts.sync` only.
"""

from __future__ import annotations

from portouts.sync.fetch import _each_page, _PageFetcher
from portouts.sync.full import (
    DETAIL_WORKERS,
    EVENTS_WINDOW_DAYS,
    PAGE_WINDOW,
    PAGE_WORKERS,
    VANISH_CHECK_LIMIT,
    VANISH_TRUST_FRACTION,
    VANISH_VERIFY_LIMIT,
    run_full_sync,
)
from portouts.sync.incremental import READ_LIMIT, owed_reads, run_incremental_sync
from portouts.sync.refresh import (
    COALESCE_SECONDS,
    handle_event,
    refresh_portout,
    refresh_portout_soon,
)
from portouts.sync.runs import (
    HEARTBEAT_EVERY,
    LOCK_KEY,
    LOCK_TTL,
    QUEUED_STALE_AFTER,
    STALE_AFTER,
    SyncAlreadyRunning,
    SyncLock,
    SyncTakenOver,
    abandon_run,
    fail_stale_runs,
    last_successful_run,
    queue_run,
    reopen_run,
    running_sync,
)
from portouts.sync.store import (
    BATCH_SIZE,
    OVERLAP,
    Details,
    StoreResult,
    _build_row,
    _store_batch,
    _write_batch,
    _write_details,
    country_of,
    flag_vanished,
    mark_details_stale,
    mark_reflected_events,
    store_comments,
    store_events,
    store_portout,
    store_portouts,
    store_rejection_codes,
    store_supporting_documents,
    store_webhook_event,
)

__all__ = [
    "BATCH_SIZE",
    "DETAIL_WORKERS",
    "EVENTS_WINDOW_DAYS",
    "HEARTBEAT_EVERY",
    "LOCK_KEY",
    "LOCK_TTL",
    "OVERLAP",
    "PAGE_WINDOW",
    "PAGE_WORKERS",
    "STALE_AFTER",
    "VANISH_CHECK_LIMIT",
    "VANISH_TRUST_FRACTION",
    "VANISH_VERIFY_LIMIT",
    "Details",
    "StoreResult",
    "SyncAlreadyRunning",
    "SyncLock",
    "SyncTakenOver",
    "_PageFetcher",
    "_build_row",
    "_each_page",
    "_store_batch",
    "_write_batch",
    "_write_details",
    "abandon_run",
    "country_of",
    "fail_stale_runs",
    "flag_vanished",
    "handle_event",
    "last_successful_run",
    "mark_details_stale",
    "mark_reflected_events",
    "owed_reads",
    "refresh_portout_soon",
    "READ_LIMIT",
    "COALESCE_SECONDS",
    "QUEUED_STALE_AFTER",
    "queue_run",
    "refresh_portout",
    "reopen_run",
    "run_full_sync",
    "run_incremental_sync",
    "running_sync",
    "store_comments",
    "store_events",
    "store_portout",
    "store_portouts",
    "store_rejection_codes",
    "store_supporting_documents",
    "store_webhook_event",
]
