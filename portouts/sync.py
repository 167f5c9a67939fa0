"""The sync service: keeps the local cache of Telnyx port-outs true to the API.

Telnyx owns the data; this module is the only writer of PortOut, PortOutNumber, Comment,
SupportingDocument, RejectionCode and (API-sourced) PortOutEvent rows.

* `run_full_sync` pages through every port-out (page 1 tells the page count, the rest
  are fetched by a small thread pool), stores each page in one transaction with a constant
  number of queries, fetches comments/documents/rejection codes only where something
  changed, and flags port-outs Telnyx no longer lists (`vanished_at`, never deleted).
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
"""

from __future__ import annotations

import logging
import re
import threading
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

import phonenumbers
from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from portouts import telnyx
from portouts.models import (
    Comment,
    PortOut,
    PortOutEvent,
    PortOutNumber,
    PortOutStatus,
    RejectionCode,
    SupportingDocument,
    SyncRun,
)

logger = logging.getLogger("portouts.sync")

T = TypeVar("T")

#: how far back each incremental run looks before the last high-water mark (late events,
#: clock skew between Telnyx and us)
OVERLAP = timedelta(minutes=5)
#: threads fetching list pages, and threads fetching comments/documents/rejection codes
PAGE_WORKERS = 4
PAGE_WINDOW = 2 * PAGE_WORKERS
DETAIL_WORKERS = 8
#: days of events a full sync stores when SYNC_EVENTS_WINDOW_DAYS is not set
EVENTS_WINDOW_DAYS = 30
#: rows per transaction when storing
BATCH_SIZE = 500
#: a running sync whose heartbeat is older than this is considered dead
STALE_AFTER = timedelta(minutes=5)
LOCK_KEY = "portouts:sync-lock"
LOCK_TTL = int(STALE_AFTER.total_seconds())
#: candidates for "vanished" are re-checked one by one up to this many (a page shift
#: while listing can hide a port-out that still exists)
VANISH_VERIFY_LIMIT = 50

E164 = re.compile(r"^\+[1-9]\d{1,14}$")

# Port-out fields the sync writes on update (everything but the primary key and
# details_synced_at, which only the details fetch sets).
_PORTOUT_UPDATE_FIELDS = [
    "status",
    "phone_numbers",
    "first_number",
    "number_count",
    "country_code",
    "authorized_name",
    "end_user_name",
    "service_address",
    "city",
    "state",
    "zip",
    "carrier_name",
    "spid",
    "current_carrier",
    "vendor",
    "pon",
    "support_key",
    "lsr",
    "reason",
    "rejection_code",
    "foc_date",
    "requested_foc_date",
    "already_ported",
    "host_messaging",
    "user_id",
    "created_at",
    "inserted_at",
    "updated_at",
    "ported_out_at",
    "raw",
    "synced_at",
    "vanished_at",
]
_TEXT_FIELDS = [
    "authorized_name",
    "end_user_name",
    "service_address",
    "city",
    "state",
    "zip",
    "carrier_name",
    "spid",
    "current_carrier",
    "vendor",
    "pon",
    "support_key",
    "user_id",
]


class SyncAlreadyRunning(Exception):
    """Another sync holds the lock; this one did not start."""


@dataclass
class StoreResult:
    """What `store_portouts` did: counts, and which ids were new or changed."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    stale: int = 0
    stored_ids: list[str] = field(default_factory=list)
    changed_ids: list[str] = field(default_factory=list)

    def add(self, other: StoreResult) -> None:
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.skipped += other.skipped
        self.stale += other.stale
        self.stored_ids.extend(other.stored_ids)
        self.changed_ids.extend(other.changed_ids)


@dataclass
class Details:
    """Comments, documents and rejection codes fetched for one port-out (None = not fetched)."""

    comments: list[telnyx.PortoutComment] | None = None
    documents: list[telnyx.SupportingDocument] | None = None
    rejection_codes: list[telnyx.RejectionCode] | None = None

    @property
    def complete(self) -> bool:
        return self.comments is not None and self.documents is not None


# --------------------------------------------------------------------------- helpers


def _max_len(name: str, model: type[Any] = PortOut) -> int | None:
    return model._meta.get_field(name).max_length  # type: ignore[no-any-return]


def _text(value: Any, *, name: str, portout_id: str, model: type[Any] = PortOut) -> str:
    """None → "", and cut what the column cannot hold (with a warning) rather than fail."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    limit = _max_len(name, model)
    if limit is not None and len(text) > limit:
        logger.warning(
            "Port-out %s: %s is %d characters, keeping the first %d",
            portout_id,
            name,
            len(text),
            limit,
        )
        text = text[:limit]
    return text


_country_cache: dict[str, str] = {}


def country_of(number: str) -> str:
    """ISO country of an E.164 number ("" when it cannot be told)."""
    if number in _country_cache:
        return _country_cache[number]
    try:
        region = phonenumbers.region_code_for_number(phonenumbers.parse(number, None)) or ""
    except phonenumbers.NumberParseException:
        region = ""
    if region == "ZZ":
        region = ""
    if len(_country_cache) < 100_000:
        _country_cache[number] = region
    return region


def _clean_numbers(portout_id: str, numbers: Sequence[str]) -> list[str]:
    """Numbers for PortOutNumber rows: deduplicated, non-E.164 kept but logged, too long skipped."""
    limit = _max_len("number", PortOutNumber) or 32
    seen: dict[str, None] = {}
    for raw in numbers:
        number = str(raw).strip()
        if not number:
            continue
        if not E164.match(number):
            logger.warning("Port-out %s lists %r, which is not an E.164 number", portout_id, number)
        if len(number) > limit:
            logger.warning(
                "Port-out %s: number %r is too long to index; skipped", portout_id, number
            )
            continue
        seen.setdefault(number, None)
    return list(seen)


@dataclass
class _Existing:
    status: str
    updated_at: datetime | None
    ported_out_at: datetime | None
    phone_numbers: list[str]
    details_synced_at: datetime | None


def _existing(ids: Iterable[str]) -> dict[str, _Existing]:
    ids = list(ids)
    if not ids:
        return {}
    rows = PortOut.objects.filter(id__in=ids).values_list(
        "id", "status", "updated_at", "ported_out_at", "phone_numbers", "details_synced_at"
    )
    return {
        pk: _Existing(status, updated, ported, numbers or [], details)
        for pk, status, updated, ported, numbers, details in rows
    }


def _build_row(p: telnyx.Portout, prev: _Existing | None, now: datetime) -> PortOut | None:
    """A PortOut instance from an API object, or None (logged) when it cannot be stored."""
    if not p.id:
        logger.warning("Skipping a port-out without an id: %.200r", p.raw)
        return None
    pid = p.id
    if len(pid) > (_max_len("id") or 64):
        logger.warning("Skipping a port-out whose id is too long: %.80r", pid)
        return None
    if p.status is None:
        logger.warning("Port-out %s has no status; storing it as empty", pid)
    status = _text(p.status, name="status", portout_id=pid)
    numbers = [str(n) for n in p.phone_numbers]
    first = numbers[0] if numbers else ""
    if first and not E164.match(first.strip()):
        country = ""
    else:
        country = country_of(first.strip()) if first else ""
    ported_out_at = None
    if status == PortOutStatus.PORTED:
        if prev is not None and prev.status == PortOutStatus.PORTED and prev.ported_out_at:
            ported_out_at = prev.ported_out_at
        else:
            ported_out_at = p.updated_at or now
    row = PortOut(
        id=pid,
        status=status,
        phone_numbers=numbers,
        first_number=_text(first, name="first_number", portout_id=pid),
        number_count=len(numbers),
        country_code=country,
        lsr=list(p.lsr),
        reason=p.reason or "",
        rejection_code=p.rejection_code,
        foc_date=p.foc_date,
        requested_foc_date=p.requested_foc_date,
        already_ported=bool(p.already_ported),
        host_messaging=bool(p.host_messaging),
        created_at=p.created_at,
        inserted_at=p.inserted_at,
        updated_at=p.updated_at,
        ported_out_at=ported_out_at,
        raw=p.raw,
        synced_at=now,
        vanished_at=None,
        details_synced_at=prev.details_synced_at if prev else None,
    )
    for name in _TEXT_FIELDS:
        setattr(row, name, _text(getattr(p, name), name=name, portout_id=pid))
    return row


def _is_changed(row: PortOut, prev: _Existing | None) -> bool:
    if prev is None:
        return True
    return prev.updated_at != row.updated_at or prev.status != row.status


# --------------------------------------------------------------------------- storing


def store_portouts(
    portouts: Iterable[telnyx.Portout], *, now: datetime | None = None
) -> StoreResult:
    """Upsert port-outs (and their PortOutNumber rows) in bulk, a few queries per batch.

    A row older than the one already stored (by `updated_at`) is not written: a page read
    before a webhook refresh must not undo it.
    """
    now = now or timezone.now()
    result = StoreResult()
    batch: list[telnyx.Portout] = []
    for portout in portouts:
        batch.append(portout)
        if len(batch) >= BATCH_SIZE:
            result.add(_store_batch(batch, now))
            batch = []
    if batch:
        result.add(_store_batch(batch, now))
    return result


def _store_batch(
    portouts: Sequence[telnyx.Portout],
    now: datetime,
    details: dict[str, Details] | None = None,
    existing: dict[str, _Existing] | None = None,
) -> StoreResult:
    """One transaction: port-outs, their numbers and any fetched details.

    If the bulk write fails on the database (data it cannot hold), fall back to one row at
    a time so one bad row does not lose the rest of the page.
    """
    # Last occurrence wins: a page shift while listing can repeat an id.
    unique: dict[str, telnyx.Portout] = {}
    skipped = 0
    for p in portouts:
        if p.id:
            unique[p.id] = p
        else:
            logger.warning("Skipping a port-out without an id: %.200r", p.raw)
            skipped += 1
    if existing is None:
        existing = _existing(unique)
    try:
        with transaction.atomic():
            result = _write_batch(list(unique.values()), now, existing, details or {})
    except DatabaseError:
        logger.exception("Storing a batch of %d port-outs failed; storing one by one", len(unique))
        result = StoreResult()
        for p in unique.values():
            try:
                with transaction.atomic():
                    one = {p.id: details[p.id]} if details and p.id in details else {}
                    result.add(_write_batch([p], now, existing, one))
            except DatabaseError:
                logger.exception("Could not store port-out %s; skipped", p.id)
                result.skipped += 1
    result.skipped += skipped
    return result


def _write_batch(
    portouts: Sequence[telnyx.Portout],
    now: datetime,
    existing: dict[str, _Existing],
    details: dict[str, Details],
) -> StoreResult:
    result = StoreResult()
    rows: list[PortOut] = []
    number_rows: list[PortOutNumber] = []
    renumber: list[str] = []
    for p in portouts:
        prev = existing.get(p.id or "")
        try:
            row = _build_row(p, prev, now)
        except Exception:  # noqa: BLE001 - unexpected data must not stop the page
            logger.exception("Could not read port-out %s; skipped", p.id)
            row = None
        if row is None:
            result.skipped += 1
            continue
        if (
            prev is not None
            and prev.updated_at is not None
            and row.updated_at is not None
            and row.updated_at < prev.updated_at
            and prev.updated_at <= now + OVERLAP
        ):
            # We already hold a newer version (e.g. from a webhook refresh). A stored
            # updated_at in the future is not trusted to order versions.
            result.stale += 1
            result.stored_ids.append(row.id)
            continue
        rows.append(row)
        result.stored_ids.append(row.id)
        if prev is None:
            result.created += 1
        elif _is_changed(row, prev):
            result.updated += 1
        else:
            result.unchanged += 1
        if _is_changed(row, prev) or prev.details_synced_at is None:  # type: ignore[union-attr]
            result.changed_ids.append(row.id)
        if prev is None or prev.phone_numbers != row.phone_numbers:
            renumber.append(row.id)
            number_rows.extend(
                PortOutNumber(portout_id=row.id, number=n)
                for n in _clean_numbers(row.id, row.phone_numbers)
            )
    if rows:
        PortOut.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["id"],
            update_fields=_PORTOUT_UPDATE_FIELDS,
            batch_size=BATCH_SIZE,
        )
    if renumber:
        PortOutNumber.objects.filter(portout_id__in=renumber).delete()
        PortOutNumber.objects.bulk_create(number_rows, batch_size=1000)
    stored = set(result.stored_ids)
    if details:
        _write_details({k: v for k, v in details.items() if k in stored}, now)
    return result


def _comment_row(portout_id: str, c: telnyx.PortoutComment) -> Comment | None:
    if not c.id:
        logger.warning("Port-out %s: skipping a comment without an id", portout_id)
        return None
    if c.portout_id and c.portout_id != portout_id:
        logger.warning(
            "Comment %s names port-out %s but was listed under %s; filing it under %s",
            c.id,
            c.portout_id,
            portout_id,
            portout_id,
        )
    return Comment(
        id=c.id[:64],
        portout_id=portout_id,
        body=c.body or "",
        user_id=_text(c.user_id, name="user_id", portout_id=portout_id, model=Comment),
        created_at=c.created_at,
        raw=c.raw,
    )


def _document_row(portout_id: str, d: telnyx.SupportingDocument) -> SupportingDocument | None:
    if not d.id:
        logger.warning("Port-out %s: skipping a supporting document without an id", portout_id)
        return None
    return SupportingDocument(
        id=d.id[:64],
        portout_id=portout_id,
        type=_text(d.type, name="type", portout_id=portout_id, model=SupportingDocument),
        document_id=_text(
            d.document_id, name="document_id", portout_id=portout_id, model=SupportingDocument
        ),
        created_at=d.created_at,
        updated_at=d.updated_at,
        raw=d.raw,
    )


def _code_rows(portout_id: str, codes: Iterable[telnyx.RejectionCode]) -> list[RejectionCode]:
    rows: dict[int, RejectionCode] = {}
    for c in codes:
        if c.code is None:
            logger.warning("Port-out %s: skipping a rejection code without a code", portout_id)
            continue
        rows[c.code] = RejectionCode(
            portout_id=portout_id,
            code=c.code,
            description=_text(
                c.description, name="description", portout_id=portout_id, model=RejectionCode
            ),
            reason_required=c.reason_required,
        )
    return list(rows.values())


def _upsert_comments(rows: list[Comment]) -> None:
    if rows:
        Comment.objects.bulk_create(
            _dedupe(rows),
            update_conflicts=True,
            unique_fields=["id"],
            update_fields=["portout", "body", "user_id", "created_at", "raw"],
            batch_size=BATCH_SIZE,
        )


def _upsert_documents(rows: list[SupportingDocument]) -> None:
    if rows:
        SupportingDocument.objects.bulk_create(
            _dedupe(rows),
            update_conflicts=True,
            unique_fields=["id"],
            update_fields=["portout", "type", "document_id", "created_at", "updated_at", "raw"],
            batch_size=BATCH_SIZE,
        )


def _dedupe[M: Comment | SupportingDocument](rows: list[M]) -> list[M]:
    return list({r.pk: r for r in rows}.values())


def _write_details(details: dict[str, Details], now: datetime) -> None:
    """Store fetched details of many port-outs with a constant number of queries."""
    comments: list[Comment] = []
    documents: list[SupportingDocument] = []
    code_owners: list[str] = []
    codes: list[RejectionCode] = []
    complete: list[str] = []
    for pid, d in details.items():
        if d.comments is not None:
            comments.extend(r for c in d.comments if (r := _comment_row(pid, c)) is not None)
        if d.documents is not None:
            documents.extend(doc for x in d.documents if (doc := _document_row(pid, x)) is not None)
        if d.rejection_codes is not None:
            code_owners.append(pid)
            codes.extend(_code_rows(pid, d.rejection_codes))
        if d.complete:
            complete.append(pid)
    _upsert_comments(comments)
    _upsert_documents(documents)
    if code_owners:
        RejectionCode.objects.filter(portout_id__in=code_owners).delete()
        RejectionCode.objects.bulk_create(codes, batch_size=1000)
    if complete:
        PortOut.objects.filter(id__in=complete).update(details_synced_at=now)


def store_portout(portout: telnyx.Portout) -> PortOut:
    """Store one port-out (same rules as `store_portouts`) and return the row."""
    if not portout.id:
        raise ValueError("A port-out without an id cannot be stored.")
    store_portouts([portout])
    return PortOut.objects.get(id=portout.id)


def _require_portout(portout_id: str) -> bool:
    if PortOut.objects.filter(id=portout_id).exists():
        return True
    logger.warning("Port-out %s is not in the cache; its details were not stored", portout_id)
    return False


def store_comments(portout_id: str, comments: Iterable[telnyx.PortoutComment]) -> None:
    """Upsert the comments of one port-out (comments are never deleted in Telnyx)."""
    if _require_portout(portout_id):
        rows = [r for c in comments if (r := _comment_row(portout_id, c)) is not None]
        _upsert_comments(rows)


def store_supporting_documents(portout_id: str, docs: Iterable[telnyx.SupportingDocument]) -> None:
    """Upsert the supporting documents of one port-out."""
    if _require_portout(portout_id):
        rows = [r for d in docs if (r := _document_row(portout_id, d)) is not None]
        _upsert_documents(rows)


def store_rejection_codes(portout_id: str, codes: Iterable[telnyx.RejectionCode]) -> None:
    """Replace the set of rejection codes Telnyx accepts for one port-out."""
    if _require_portout(portout_id):
        rows = _code_rows(portout_id, codes)
        with transaction.atomic():
            RejectionCode.objects.filter(portout_id=portout_id).delete()
            RejectionCode.objects.bulk_create(rows)


def store_events(
    events: Iterable[telnyx.PortoutEvent], *, source: str = PortOutEvent.Source.API
) -> list[str]:
    """Insert events not stored yet (idempotent on id); return the ids that were new."""
    rows: dict[str, PortOutEvent] = {}
    for e in events:
        if not e.id:
            logger.warning("Skipping an event without an id: %.200r", e.raw)
            continue
        rows[e.id] = PortOutEvent(
            id=e.id[:64],
            event_type=(e.event_type or "")[:64],
            portout_id=(e.portout_id or _payload_portout_id(e.event_type, e.payload) or "")[:64],
            payload=e.payload,
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
    """Record a verified webhook delivery once; True when it was new (duplicates: False)."""
    portout_id = (event.portout_id or "")[:64]
    _, created = PortOutEvent.objects.get_or_create(
        id=event.id[:64],
        defaults={
            "event_type": event.event_type[:64],
            "portout_id": portout_id,
            "payload": event.payload,
            "created_at": event.occurred_at,
            "source": PortOutEvent.Source.WEBHOOK,
        },
    )
    return created


def _payload_portout_id(event_type: str | None, payload: dict[str, Any]) -> str | None:
    key = "portout_id" if event_type == telnyx.EVENT_NEW_COMMENT else "id"
    value = payload.get(key)
    return str(value) if value else None


def mark_events_processed(event_ids: Iterable[str], *, now: datetime | None = None) -> None:
    ids = [e for e in event_ids if e]
    if ids:
        PortOutEvent.objects.filter(id__in=ids, processed_at__isnull=True).update(
            processed_at=now or timezone.now()
        )


def flag_vanished(portout_ids: Iterable[str], *, now: datetime | None = None) -> int:
    """Mark port-outs Telnyx no longer has; they stay in the cache (audit trail points at them)."""
    ids = list(portout_ids)
    flagged = 0
    for start in range(0, len(ids), BATCH_SIZE):
        chunk = ids[start : start + BATCH_SIZE]
        flagged += PortOut.objects.filter(id__in=chunk, vanished_at__isnull=True).update(
            vanished_at=now or timezone.now()
        )
    return flagged


# --------------------------------------------------------------------------- fetching


class _Api:
    """The client plus a thread-safe count of the API calls this run made."""

    def __init__(self, client: telnyx.TelnyxClient) -> None:
        self.client = client
        self.requests = 0
        self._lock = threading.Lock()

    def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        with self._lock:
            self.requests += 1
        return fn(*args, **kwargs)

    def fetch_details(
        self, plan: dict[str, set[str]], *, pool: ThreadPoolExecutor | None
    ) -> dict[str, Details]:
        """Fetch, concurrently, what `plan` asks per port-out: "comments", "documents",
        "codes" (eligible rejection codes).

        A port-out Telnyx answers 404 for (gone meanwhile) is left out; other errors raise.
        """
        methods: dict[str, Callable[[str], Any]] = {
            "comments": self.client.list_comments,
            "documents": self.client.list_supporting_documents,
            "codes": self.client.list_rejection_codes,
        }
        submit = pool.submit if pool is not None else _run_now
        jobs = [
            (pid, what, submit(self.call, methods[what], pid))
            for pid, kinds in plan.items()
            for what in ("comments", "documents", "codes")
            if what in kinds
        ]
        out: dict[str, Details] = {}
        gone: set[str] = set()
        for pid, what, future in jobs:
            try:
                value = future.result()
            except telnyx.NotFoundError:
                gone.add(pid)
                continue
            d = out.setdefault(pid, Details())
            if what == "comments":
                d.comments = value
            elif what == "documents":
                d.documents = value
            else:
                d.rejection_codes = value
        for pid in gone:
            logger.info("Port-out %s disappeared while its details were fetched", pid)
            out.pop(pid, None)
        return out


def _full_plan(portout: telnyx.Portout) -> set[str]:
    """Everything about a port-out: comments, documents, and codes while it is pending."""
    kinds = {"comments", "documents"}
    if portout.status == PortOutStatus.PENDING:
        kinds.add("codes")
    return kinds


def _run_now[R](fn: Callable[..., R], *args: Any, **kwargs: Any) -> Future[R]:
    future: Future[R] = Future()
    try:
        future.set_result(fn(*args, **kwargs))
    except BaseException as exc:  # noqa: BLE001 - handed to the caller via the future
        future.set_exception(exc)
    return future


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


def _each_page[P](fetch: Callable[[int], telnyx.Page[P]]) -> Iterator[telnyx.Page[P]]:
    """Pages 1, 2, ... of a listing, one after the other, until Telnyx says there is no next."""
    number = 1
    while True:
        page = fetch(number)
        yield page
        if not page.has_next:
            return
        number += 1


def refresh_comments(portout_id: str, *, client: telnyx.TelnyxClient | None = None) -> None:
    """Refetch the comments of one port-out (after a new_comment event)."""
    api = _Api(client or telnyx.get_client())
    store_comments(portout_id, api.call(api.client.list_comments, portout_id))


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


# --------------------------------------------------------------------------- runs and the lock


class SyncLock:
    """At most one sync at a time, across processes: a cache entry with a TTL.

    The holder refreshes the TTL on every heartbeat; a crashed worker's lock expires after
    LOCK_TTL seconds, and its SyncRun (still "running", stale heartbeat) is marked failed
    by the next run.
    """

    def __init__(self) -> None:
        self.token = uuid.uuid4().hex
        self.held = False
        # One sync per database (several test databases may share one cache).
        self.key = f"{LOCK_KEY}:{connection.settings_dict['NAME']}"

    def acquire(self) -> bool:
        self.held = bool(cache.add(self.key, self.token, LOCK_TTL))
        return self.held

    def refresh(self) -> None:
        if self.held and cache.get(self.key) == self.token:
            cache.touch(self.key, LOCK_TTL)
        elif self.held:
            # Expired (a very long pause) or taken over: take it again if free.
            cache.add(self.key, self.token, LOCK_TTL)

    def release(self) -> None:
        if self.held and cache.get(self.key) == self.token:
            cache.delete(self.key)
        self.held = False


def fail_stale_runs(*, now: datetime | None = None) -> int:
    """Mark runs left "running" by a stopped worker (stale heartbeat) as failed."""
    now = now or timezone.now()
    cutoff = now - STALE_AFTER
    stale = SyncRun.objects.filter(status=SyncRun.Status.RUNNING).filter(
        Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, started_at__lt=cutoff)
    )
    return stale.update(status=SyncRun.Status.FAILED, finished_at=now, error="worker stopped")


def running_sync() -> SyncRun | None:
    """The full/incremental run in progress, if any (stale ones are failed first)."""
    fail_stale_runs()
    return (
        SyncRun.objects.filter(
            status=SyncRun.Status.RUNNING, kind__in=[SyncRun.Kind.FULL, SyncRun.Kind.INCREMENTAL]
        )
        .order_by("-started_at")
        .first()
    )


def last_successful_run() -> SyncRun | None:
    return (
        SyncRun.objects.filter(
            status=SyncRun.Status.SUCCEEDED,
            kind__in=[SyncRun.Kind.FULL, SyncRun.Kind.INCREMENTAL],
        )
        .order_by("-started_at")
        .first()
    )


def queue_run(*, kind: str, triggered_by: str) -> SyncRun:
    """A run row created before its task starts, so a page can show its progress at once.

    The task picks it up through `run_id`; a run never picked up is failed as stale later.
    """
    return SyncRun.objects.create(
        kind=kind, triggered_by=triggered_by[:64], heartbeat_at=timezone.now()
    )


def abandon_run(run_id: int | None, *, reason: str) -> None:
    """Fail a queued run that will not start (another sync held the lock)."""
    if run_id is not None:
        SyncRun.objects.filter(pk=run_id, status=SyncRun.Status.RUNNING).update(
            status=SyncRun.Status.FAILED, finished_at=timezone.now(), error=reason
        )


class _Run:
    """A SyncRun being recorded: progress, counts, heartbeat."""

    def __init__(
        self,
        run: SyncRun,
        lock: SyncLock,
        api: _Api,
        on_progress: Callable[[SyncRun], None] | None,
    ) -> None:
        self.run = run
        self.lock = lock
        self.api = api
        self.on_progress = on_progress
        self.counts: dict[str, int] = {}

    def count(self, key: str, n: int = 1) -> None:
        if n:
            self.counts[key] = self.counts.get(key, 0) + n

    def add_store(self, result: StoreResult) -> None:
        self.count("created", result.created)
        self.count("updated", result.updated)
        self.count("unchanged", result.unchanged)
        self.count("skipped", result.skipped)
        self.count("stale", result.stale)

    def progress(self, *, done: int | None = None, total: int | None = None) -> None:
        """Save progress and the heartbeat (one UPDATE) and refresh the lock."""
        run = self.run
        if done is not None:
            run.progress_done = done
        if total is not None:
            run.progress_total = total
        run.heartbeat_at = timezone.now()
        run.counts = dict(self.counts)
        run.api_requests = self.api.requests
        SyncRun.objects.filter(pk=run.pk).update(
            progress_done=run.progress_done,
            progress_total=run.progress_total,
            heartbeat_at=run.heartbeat_at,
            counts=run.counts,
            api_requests=run.api_requests,
        )
        self.lock.refresh()
        if self.on_progress is not None:
            self.on_progress(run)


def _begin(kind: str, triggered_by: str, run_id: int | None) -> tuple[SyncRun, SyncLock]:
    lock = SyncLock()
    fail_stale_runs()
    if not lock.acquire():
        raise SyncAlreadyRunning("Another sync is running.")
    now = timezone.now()
    run: SyncRun | None = None
    if run_id is not None:
        run = SyncRun.objects.filter(pk=run_id, status=SyncRun.Status.RUNNING).first()
    if run is None:
        run = SyncRun.objects.create(kind=kind, triggered_by=triggered_by[:64], heartbeat_at=now)
    else:
        run.kind = kind
        run.heartbeat_at = now
        run.save(update_fields=["kind", "heartbeat_at"])
    return run, lock


def _finish(
    state: _Run, *, error: str = "", high_water: dict[str, datetime | None] | None = None
) -> SyncRun:
    run = state.run
    run.status = SyncRun.Status.FAILED if error else SyncRun.Status.SUCCEEDED
    run.finished_at = timezone.now()
    run.heartbeat_at = run.finished_at
    run.error = error
    run.counts = dict(state.counts)
    run.api_requests = state.api.requests
    fields = ["status", "finished_at", "heartbeat_at", "error", "counts", "api_requests"]
    if not error:
        run.progress_done = max(run.progress_done, run.progress_total or 0)
        fields.append("progress_done")
        for name, value in (high_water or {}).items():
            setattr(run, name, value)
            fields.append(name)
    run.save(update_fields=fields)
    if state.on_progress is not None:
        state.on_progress(run)
    return run


def _error_text(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text[:2000]


def _execute(
    kind: str,
    body: Callable[[_Run], dict[str, datetime | None]],
    *,
    triggered_by: str,
    client: telnyx.TelnyxClient | None,
    run_id: int | None,
    on_progress: Callable[[SyncRun], None] | None,
) -> SyncRun:
    run, lock = _begin(kind, triggered_by, run_id)
    state = _Run(run, lock, _Api(client or telnyx.get_client()), on_progress)
    try:
        try:
            high_water = body(state)
        except Exception as exc:
            logger.exception("%s sync failed", kind.capitalize())
            _finish(state, error=_error_text(exc))
            raise
        return _finish(state, high_water=high_water)
    finally:
        lock.release()


# --------------------------------------------------------------------------- full sync


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
    pages = _PageFetcher(pool, fetch, first, first.meta.total_pages or 1)
    try:
        for page in pages:
            with transaction.atomic():
                store_events(page.data)
                mark_events_processed((e.id for e in page.data if e.id), now=started)
            for e in page.data:
                if e.created_at is not None and (newest is None or e.created_at > newest):
                    newest = e.created_at
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
    inserted_high: datetime | None = None
    done = 0
    with (
        ThreadPoolExecutor(PAGE_WORKERS, thread_name_prefix="sync-page") as pages_pool,
        ThreadPoolExecutor(DETAIL_WORKERS, thread_name_prefix="sync-detail") as detail_pool,
    ):
        # Events from now on are picked up by the next incremental run.
        event_mark = _store_window_events(state, pages_pool, started) or started
        first = fetch(1)
        state.progress(done=0, total=first.meta.total_results or len(first.data))
        pages = _PageFetcher(pages_pool, fetch, first, first.meta.total_pages or 1)
        try:
            for page in pages:
                items = [p for p in page.data if p.id]
                _store_page(state, items, detail_pool, started)
                seen.update(p.id for p in items if p.id)
                for p in items:
                    if p.inserted_at and (inserted_high is None or p.inserted_at > inserted_high):
                        inserted_high = p.inserted_at
                done += len(page.data)
                state.progress(done=done)
        finally:
            pages.cancel()
    vanished = _find_vanished(state, seen, started, detail_pool=None)
    state.count("vanished", flag_vanished(vanished, now=timezone.now()))
    previous = last_successful_run()
    if (
        previous
        and previous.inserted_at_high_water
        and (inserted_high is None or previous.inserted_at_high_water > inserted_high)
    ):
        inserted_high = previous.inserted_at_high_water
    return {
        "inserted_at_high_water": _clamp(inserted_high, started),
        "event_high_water": _clamp(event_mark, started),
    }


def _clamp(mark: datetime | None, limit: datetime) -> datetime | None:
    """A high-water mark never goes past the run's start on our clock: one odd timestamp
    in the future must not make later runs skip what happens until then."""
    return None if mark is None else min(mark, limit)


class _PageFetcher[P]:
    """Pages 2..N fetched by a thread pool, in order, at most PAGE_WINDOW ahead of the
    page being stored (memory stays flat however big the account is)."""

    def __init__(
        self,
        pool: ThreadPoolExecutor,
        fetch: Callable[[int], telnyx.Page[P]],
        first: telnyx.Page[P],
        total_pages: int,
    ) -> None:
        self.pool = pool
        self.fetch = fetch
        self.first = first
        self.next_number = 2
        self.total_pages = total_pages
        self.ahead: deque[Future[telnyx.Page[P]]] = deque()

    def _fill(self) -> None:
        while len(self.ahead) < PAGE_WINDOW and self.next_number <= self.total_pages:
            self.ahead.append(self.pool.submit(self.fetch, self.next_number))
            self.next_number += 1

    def __iter__(self) -> Iterator[telnyx.Page[P]]:
        self._fill()
        yield self.first
        while self.ahead:
            page = self.ahead.popleft().result()
            self._fill()
            yield page

    def cancel(self) -> None:
        for future in self.ahead:
            future.cancel()


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
    state: _Run, seen: set[str], started: datetime, detail_pool: ThreadPoolExecutor | None
) -> list[str]:
    """Port-outs present in the cache, stored before this run, and not listed by it.

    A few candidates are checked one by one (a page shift while listing can hide one that
    still exists); a re-found one is stored instead of flagged.
    """
    present = PortOut.objects.present().filter(synced_at__lt=started).values_list("id", flat=True)
    candidates = [pid for pid in present.iterator(chunk_size=5000) if pid not in seen]
    if not candidates or len(candidates) > VANISH_VERIFY_LIMIT:
        if candidates:
            logger.warning(
                "%d cached port-outs were not listed by Telnyx; flagging them vanished",
                len(candidates),
            )
        return candidates
    api = state.api
    gone: list[str] = []
    found: list[telnyx.Portout] = []
    with ThreadPoolExecutor(DETAIL_WORKERS) as pool:
        futures = [(pid, pool.submit(api.call, api.client.get_portout, pid)) for pid in candidates]
        for pid, future in futures:
            try:
                found.append(future.result())
            except telnyx.NotFoundError:
                gone.append(pid)
    if found:
        _store_page(state, found, None, timezone.now())
    return gone


# --------------------------------------------------------------------------- incremental sync


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
    inserted_high = previous.inserted_at_high_water
    for page in _each_page(
        lambda number: api.call(
            api.client.list_portouts_page, page_number=number, inserted_at_gte=inserted_since
        )
    ):
        for p in page.data:
            if p.id:
                fetched[p.id] = p
                if p.inserted_at and (inserted_high is None or p.inserted_at > inserted_high):
                    inserted_high = p.inserted_at

    # 2. Events since the last mark: store each once, then decide what to refetch.
    events: dict[str, telnyx.PortoutEvent] = {}
    event_high = previous.event_high_water
    for epage in _each_page(
        lambda number: api.call(
            api.client.list_events_page, page_number=number, created_at_gte=events_since
        )
    ):
        for e in epage.data:
            if e.id:
                events[e.id] = e
                if e.created_at and (event_high is None or e.created_at > event_high):
                    event_high = e.created_at
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
