"""The sync service: keeps the local cache of Telnyx port-outs true to the API.

Telnyx owns the data; this package is the only writer of PortOut, PortOutNumber, Comment,
SupportingDocument, RejectionCode and (API-sourced) PortOutEvent rows.

The one invariant: **an event is processed only once what it announces is in the cache**,
i.e. its port-out was read in full by a read that began after the event was received
(`details_synced_at >= received_at`, both on our clock), or Telnyx answered 404 for it.
`store.mark_reflected_events` applies that rule in one UPDATE; nothing else marks events.
An unprocessed event is owed a read by every later run, whoever stored it.

* `run_full_sync` (full.py) reconciles every port-out in four stages, each keeping the
  invariant by construction: store the window's events unprocessed; read every port-out
  in full (listing pages fetched by a thread pool, comments and documents of every
  port-out, codes of pending ones, one transaction per page); flag vanished ones (only
  when Telnyx confirms); mark events last. A failed run is resumed by the next one.
* `run_incremental_sync` (incremental.py) stores the events since the last mark, lists the
  port-outs inserted since, and reads in full every port-out owed a read: its cost grows
  with the number of changes, not with the account.
* `refresh_portout` (refresh.py) reads one port-out in full (webhooks, coalesced by
  `refresh_portout_soon`) or only its row (after a review action).

Reads that fail after the client's retries mark one port-out `details_stale` for the next
run instead of failing the run. Every write happens in the main thread; worker threads
only talk HTTP. A run stopped at any point leaves the cache consistent (each page is one
transaction) and the high-water marks only move on success.

The package, by concern: `rows` (API objects into model instances), `store` (writing
port-outs and their details), `events` (storing events, the processed rule), `fetch`
(talking to Telnyx: counting, concurrency, paging), `runs` (the lock and SyncRun records),
`full`, `incremental` and `refresh` (the three ways of syncing), `request` (`sync_request`:
a sync a person asks for, queued after commit). Callers import from `portouts.sync` only.
"""

from __future__ import annotations

from portouts.sync.events import (
    mark_reflected_events,
    store_events,
    store_webhook_event,
)
from portouts.sync.fetch import _each_page, _PageFetcher
from portouts.sync.full import (
    DETAIL_WORKERS,
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
from portouts.sync.request import sync_request
from portouts.sync.rows import (
    _build_row,
    country_of,
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
    _store_batch,
    _write_batch,
    _write_details,
    flag_vanished,
    mark_details_stale,
    store_comments,
    store_portout,
    store_portouts,
    store_rejection_codes,
    store_supporting_documents,
)

__all__ = [
    "BATCH_SIZE",
    "DETAIL_WORKERS",
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
    "sync_request",
]
