"""Storing what Telnyx sent: port-outs, numbers, comments, documents and rejection codes,
in bulk with a constant number of queries per batch (events: `sync.events`).

Every function here writes the database only; fetching is the callers' business.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import DatabaseError, transaction
from django.utils import timezone

from portouts import telnyx
from portouts.alerts.evaluate import BatchWatch
from portouts.models import Comment, PortOut, PortOutNumber, RejectionCode, SupportingDocument
from portouts.risk.engine import risk_assess_stored
from portouts.sync.rows import (
    _build_row,
    _clean_numbers,
    _code_rows,
    _comment_row,
    _document_row,
    _Existing,
)

logger = logging.getLogger("portouts.sync")

#: how far back each incremental run looks before the last high-water mark (late events,
#: clock skew between Telnyx and us); also how far in the future a stored updated_at may
#: be and still order versions
OVERLAP = timedelta(minutes=5)
#: rows per transaction when storing
BATCH_SIZE = 500

# Port-out fields the sync writes on update: all but the primary key and what only a read
# of the details sets.
_PORTOUT_UPDATE_FIELDS = [
    f.name
    for f in PortOut._meta.concrete_fields
    if f.name not in {"id", "details_synced_at", "details_stale"}
]


@dataclass
class StoreResult:
    """What `store_portouts` did: counts, and the ids it stored (or found newer)."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    stale: int = 0
    stored_ids: list[str] = field(default_factory=list)

    def add(self, other: StoreResult) -> None:
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.skipped += other.skipped
        self.stale += other.stale
        self.stored_ids.extend(other.stored_ids)


@dataclass
class Details:
    """Comments, documents and rejection codes read for one port-out (None = not read).

    Only a complete read is stored as details (comments and documents, plus the codes while
    pending); a port-out whose read failed is marked `details_stale` instead.
    """

    comments: list[telnyx.CommentData] | None = None
    documents: list[telnyx.SupportingDocumentData] | None = None
    rejection_codes: list[telnyx.RejectionCodeData] | None = None


def _existing(ids: Iterable[str]) -> dict[str, _Existing]:
    ids = list(ids)
    if not ids:
        return {}
    rows = PortOut.objects.filter(id__in=ids).values_list(
        "id",
        "status",
        "updated_at",
        "ported_out_at",
        "phone_numbers",
        "details_synced_at",
        "details_stale",
    )
    return {
        pk: _Existing(status, updated, ported, numbers or [], details, stale)
        for pk, status, updated, ported, numbers, details, stale in rows
    }


def _is_changed(row: PortOut, prev: _Existing | None) -> bool:
    if prev is None:
        return True
    return prev.updated_at != row.updated_at or prev.status != row.status


# ---------------------------------------------------------------------- port-outs and their details


def store_portouts(
    portouts: Iterable[telnyx.PortoutData], *, now: datetime | None = None
) -> StoreResult:
    """Upsert port-outs (and their PortOutNumber rows) in bulk, a few queries per batch.

    A row older than the one already stored (by `updated_at`) is not written: a page read
    before a webhook refresh must not undo it.
    """
    now = now or timezone.now()
    result = StoreResult()
    batch: list[telnyx.PortoutData] = []
    for portout in portouts:
        batch.append(portout)
        if len(batch) >= BATCH_SIZE:
            result.add(_store_batch(batch, now))
            batch = []
    if batch:
        result.add(_store_batch(batch, now))
    return result


def _store_batch(
    portouts: Sequence[telnyx.PortoutData],
    now: datetime,
    details: dict[str, Details] | None = None,
    existing: dict[str, _Existing] | None = None,
    *,
    read_began: datetime | None = None,
) -> StoreResult:
    """One transaction: port-outs, their numbers and any complete reads of details (which
    began at `read_began`, by default `now`).

    If the bulk write fails on the database (data it cannot hold), fall back to one row at
    a time so one bad row does not lose the rest of the page.
    """
    # Last occurrence wins: a page shift while listing can repeat an id.
    unique: dict[str, telnyx.PortoutData] = {}
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
            result = _write_batch(
                list(unique.values()), now, existing, details or {}, read_began or now
            )
    except DatabaseError:
        logger.exception("Storing a batch of %d port-outs failed; storing one by one", len(unique))
        result = StoreResult()
        for p in unique.values():
            try:
                with transaction.atomic():
                    one = {p.id: details[p.id]} if details and p.id in details else {}
                    result.add(_write_batch([p], now, existing, one, read_began or now))
            except DatabaseError:
                logger.exception("Could not store port-out %s; skipped", p.id)
                result.skipped += 1
    result.skipped += skipped
    return result


def _older_than_held(row: PortOut, prev: _Existing | None, now: datetime) -> bool:
    """We already hold a newer version (e.g. from a webhook refresh). A stored updated_at
    in the future is not trusted to order versions."""
    return (
        prev is not None
        and prev.updated_at is not None
        and row.updated_at is not None
        and row.updated_at < prev.updated_at
        and prev.updated_at <= now + OVERLAP
    )


def _rows_to_write(
    portouts: Sequence[telnyx.PortoutData], now: datetime, existing: dict[str, _Existing]
) -> tuple[list[PortOut], list[str], StoreResult]:
    """The rows to upsert, the ids whose numbers changed, and the counts."""
    result = StoreResult()
    rows: list[PortOut] = []
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
        result.stored_ids.append(row.id)
        if _older_than_held(row, prev, now):
            result.stale += 1
            continue
        rows.append(row)
        changed = _is_changed(row, prev)
        if prev is None:
            result.created += 1
        elif changed:
            result.updated += 1
        else:
            result.unchanged += 1
        if prev is None or prev.phone_numbers != row.phone_numbers:
            renumber.append(row.id)
    return rows, renumber, result


def _write_batch(
    portouts: Sequence[telnyx.PortoutData],
    now: datetime,
    existing: dict[str, _Existing],
    details: dict[str, Details],
    read_began: datetime,
) -> StoreResult:
    rows, renumber, result = _rows_to_write(portouts, now, existing)
    # Alerts are rows of this transaction: a change alerts once it is stored, never before.
    watch = BatchWatch([row.id for row in rows])
    if rows:
        PortOut.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["id"],
            update_fields=_PORTOUT_UPDATE_FIELDS,
            batch_size=BATCH_SIZE,
        )
    if renumber:
        by_id = {row.id: row for row in rows}
        PortOutNumber.objects.filter(portout_id__in=renumber).delete()
        PortOutNumber.objects.bulk_create(
            (
                PortOutNumber(portout_id=pid, number=n)
                for pid in renumber
                for n in _clean_numbers(pid, by_id[pid].phone_numbers)
            ),
            batch_size=1000,
        )
    stored = set(result.stored_ids)
    new_children: tuple[list[Comment], list[SupportingDocument]] = ([], [])
    if details:
        new_children = _write_details({k: v for k, v in details.items() if k in stored}, read_began)
    # The flags follow what was just stored, in the same transaction (their evidence, such
    # as the events, is stored before the port-out).
    risk_assess_stored(row.id for row in rows)
    watch.stored(rows, *new_children)
    return result


_COMMENT_FIELDS = ["portout_id", "body", "user_id", "created_at", "raw"]
_DOCUMENT_FIELDS = ["portout_id", "type", "document_id", "created_at", "updated_at", "raw"]


def _upsert(
    model: type[Comment] | type[SupportingDocument],
    rows: Sequence[Comment | SupportingDocument],
    fields: list[str],
) -> None:
    if rows:
        model.objects.bulk_create(
            list({r.pk: r for r in rows}.values()),  # type: ignore[arg-type]
            update_conflicts=True,
            unique_fields=["id"],
            update_fields=fields,
            batch_size=BATCH_SIZE,
        )


def _replace_children(
    model: type[Comment] | type[SupportingDocument],
    portout_ids: list[str],
    rows: Sequence[Comment | SupportingDocument],
    fields: list[str],
) -> list[Comment | SupportingDocument]:
    """Make the cached comments (or documents) of these port-outs exactly `rows`: one read
    of what is held, then only new or changed rows written and vanished ones deleted.
    Returns the rows new to the cache."""
    if not portout_ids:
        return []
    held = {
        values[0]: values[1:]
        for values in model.objects.filter(portout_id__in=portout_ids).values_list("id", *fields)
    }
    wanted = {r.pk: r for r in rows}
    changed = [
        r for pk, r in wanted.items() if held.get(pk) != tuple(getattr(r, f) for f in fields)
    ]
    _upsert(model, changed, fields)
    gone = [pk for pk in held if pk not in wanted]
    if gone:
        model.objects.filter(pk__in=gone).delete()
    return [r for r in changed if r.pk not in held]


def _write_details(
    details: dict[str, Details], read_began: datetime
) -> tuple[list[Comment], list[SupportingDocument]]:
    """Store complete reads of many port-outs with a constant number of queries: their
    comments, documents and codes become what Telnyx listed, and `details_synced_at` says
    when the read began (events received before then are reflected). Returns the comments
    and documents new to the cache."""
    comments: list[Comment] = []
    documents: list[SupportingDocument] = []
    code_owners: list[str] = []
    codes: list[RejectionCode] = []
    for pid, d in details.items():
        comments.extend(r for c in d.comments or () if (r := _comment_row(pid, c)) is not None)
        documents.extend(x for y in d.documents or () if (x := _document_row(pid, y)) is not None)
        if d.rejection_codes is not None:
            code_owners.append(pid)
            codes.extend(_code_rows(pid, d.rejection_codes))
    ids = list(details)
    new_comments = _replace_children(Comment, ids, comments, _COMMENT_FIELDS)
    new_documents = _replace_children(SupportingDocument, ids, documents, _DOCUMENT_FIELDS)
    if code_owners:
        RejectionCode.objects.filter(portout_id__in=code_owners).delete()
        RejectionCode.objects.bulk_create(codes, batch_size=1000)
    if ids:
        PortOut.objects.filter(id__in=ids).update(details_synced_at=read_began, details_stale=False)
    return new_comments, new_documents  # type: ignore[return-value]


def mark_details_stale(portout_ids: Iterable[str]) -> int:
    """Port-outs whose read failed after the client's retries: the next sync reads them again."""
    ids = list(portout_ids)
    return PortOut.objects.filter(id__in=ids).update(details_stale=True) if ids else 0


def store_portout(portout: telnyx.PortoutData) -> PortOut:
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


def store_comments(portout_id: str, comments: Iterable[telnyx.CommentData]) -> None:
    """Upsert the comments of one port-out (comments are never deleted in Telnyx)."""
    if _require_portout(portout_id):
        rows = [r for c in comments if (r := _comment_row(portout_id, c)) is not None]
        _upsert(Comment, rows, _COMMENT_FIELDS)


def store_supporting_documents(
    portout_id: str, docs: Iterable[telnyx.SupportingDocumentData]
) -> None:
    """Upsert the supporting documents of one port-out."""
    if _require_portout(portout_id):
        rows = [r for d in docs if (r := _document_row(portout_id, d)) is not None]
        _upsert(SupportingDocument, rows, _DOCUMENT_FIELDS)


def store_rejection_codes(portout_id: str, codes: Iterable[telnyx.RejectionCodeData]) -> None:
    """Replace the set of rejection codes Telnyx accepts for one port-out."""
    if _require_portout(portout_id):
        rows = _code_rows(portout_id, codes)
        with transaction.atomic():
            RejectionCode.objects.filter(portout_id=portout_id).delete()
            RejectionCode.objects.bulk_create(rows)


# ----------------------------------------------------------------------------- vanished port-outs


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
