"""The incremental sync: only what changed since the last successful run."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from portouts import telnyx
from portouts.models import Comment, PortOutEvent, SyncRun
from portouts.sync.fetch import _each_page, _full_plan
from portouts.sync.full import DETAIL_WORKERS, run_full_sync
from portouts.sync.runs import _clamp, _execute, _latest, _Run, last_successful_run
from portouts.sync.store import (
    OVERLAP,
    _existing,
    _payload_portout_id,
    _store_batch,
    _write_details,
    flag_vanished,
    mark_events_processed,
    store_events,
)

logger = logging.getLogger("portouts.sync")


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


def _incremental_body(state: _Run, previous: SyncRun) -> dict[str, datetime | None]:
    api = state.api
    started = timezone.now()
    inserted_since = (previous.inserted_at_high_water or previous.started_at) - OVERLAP
    events_since = (previous.event_high_water or previous.started_at) - OVERLAP

    # 1. New port-outs (ordered newest first, usually a single page).
    fetched: dict[str, telnyx.Portout] = {}
    for page in _each_page(
        lambda number: api.call(
            api.client.list_portouts_page, page_number=number, inserted_at_gte=inserted_since
        )
    ):
        fetched.update((p.id, p) for p in page.data if p.id)
    inserted_high = _latest(
        previous.inserted_at_high_water, (p.inserted_at for p in fetched.values())
    )

    # 2. Events since the last mark: store each once, then decide what to refetch.
    events: dict[str, telnyx.PortoutEvent] = {}
    for epage in _each_page(
        lambda number: api.call(
            api.client.list_events_page, page_number=number, created_at_gte=events_since
        )
    ):
        events.update((e.id, e) for e in epage.data if e.id)
    event_high = _latest(previous.event_high_water, (e.created_at for e in events.values()))
    state.count("events", len(events))
    with transaction.atomic():
        store_events(events.values())
    processed = set(
        PortOutEvent.objects.filter(id__in=list(events), processed_at__isnull=False).values_list(
            "id", flat=True
        )
    )
    pending_events = [e for e in events.values() if e.id not in processed]
    handled = [e.id for e in pending_events if e.id]
    affected = {
        pid
        for e in pending_events
        if (pid := e.portout_id or _payload_portout_id(e.event_type, e.payload))
    }
    existing = _existing(affected | set(fetched))
    comment_ids = [
        str(e.payload["id"])
        for e in pending_events
        if e.event_type == telnyx.EVENT_NEW_COMMENT and e.payload.get("id")
    ]
    known_comments = set(
        Comment.objects.filter(id__in=comment_ids).values_list("id", flat=True)
        if comment_ids
        else []
    )
    to_refetch: dict[str, None] = {}
    comments_for: dict[str, None] = {}
    for e in pending_events:
        pid = e.portout_id or _payload_portout_id(e.event_type, e.payload)
        if not pid:
            continue
        if e.event_type == telnyx.EVENT_NEW_COMMENT:
            if str(e.payload.get("id")) not in known_comments:
                comments_for[pid] = None
            if pid not in existing and pid not in fetched:
                to_refetch[pid] = None  # a comment on a port-out we have never seen
            continue
        # The port-out as we hold it (listed in this run, else cached) may already show
        # this change: same clock (Telnyx's), so compare the event with its updated_at.
        listed = fetched.get(pid)
        held = listed.updated_at if listed is not None else None
        if held is None and pid in existing:
            held = existing[pid].updated_at
        if (
            held is not None
            and e.created_at is not None
            and e.created_at <= held <= started + OVERLAP
        ):
            continue
        to_refetch[pid] = None
    state.progress(done=0, total=len(fetched) + len(to_refetch) + len(comments_for))

    # 3. Refetch each affected port-out once, then the details it needs, concurrently.
    gone: list[str] = []
    with ThreadPoolExecutor(DETAIL_WORKERS, thread_name_prefix="sync-detail") as pool:
        futures = [(pid, pool.submit(api.call, api.client.get_portout, pid)) for pid in to_refetch]
        for pid, future in futures:
            try:
                fetched[pid] = future.result()
            except telnyx.NotFoundError:
                gone.append(pid)
        plan: dict[str, set[str]] = {}
        for pid, p in fetched.items():
            prev = existing.get(pid)
            if prev is None or prev.details_synced_at is None:
                plan[pid] = _full_plan(p)  # new to the cache: everything
        for pid in comments_for:
            if pid not in gone:
                plan.setdefault(pid, set()).add("comments")
        details = api.fetch_details(plan, pool=pool)
    now = timezone.now()
    items = list(fetched.values())
    result = _store_batch(items, now, details, existing)
    state.add_store(result)
    stored = set(result.stored_ids)
    comment_only = {pid: d for pid, d in details.items() if pid not in stored and pid in existing}
    if comment_only:
        with transaction.atomic():
            _write_details(comment_only, now)
    state.count("comments", sum(len(d.comments or ()) for d in details.values()))
    if gone:
        state.count("vanished", flag_vanished(gone, now=now))
    mark_events_processed(handled, now=now)
    state.progress(done=len(items) + len(comment_only))
    return {
        "inserted_at_high_water": _clamp(inserted_high, started),
        "event_high_water": _clamp(event_high, started),
    }
