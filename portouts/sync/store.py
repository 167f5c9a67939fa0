"""Storing what Telnyx sent: port-outs, numbers, comments, documents, rejection codes
and events, in bulk with a constant number of queries per batch.

Every function here writes the database only; fetching is the callers' business.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import phonenumbers
from django.db import DatabaseError, transaction
from django.db.models import Exists, OuterRef, Q
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
)

logger = logging.getLogger("portouts.sync")

#: how far back each incremental run looks before the last high-water mark (late events,
#: clock skew between Telnyx and us); also how far in the future a stored updated_at may
#: be and still order versions
OVERLAP = timedelta(minutes=5)
#: rows per transaction when storing
BATCH_SIZE = 500

E164 = re.compile(r"^\+[1-9]\d{1,14}$")

# Port-out fields the sync writes on update: all but the primary key and what only a read
# of the details sets.
_PORTOUT_UPDATE_FIELDS = [
    f.name
    for f in PortOut._meta.concrete_fields
    if f.name not in {"id", "details_synced_at", "details_stale"}
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
    """Comments, documents and rejection codes read for one port-out (None = not read).

    Only a complete read is stored as details (comments and documents, plus the codes while
    pending); a port-out whose read failed is marked `details_stale` instead.
    """

    comments: list[telnyx.PortoutComment] | None = None
    documents: list[telnyx.SupportingDocument] | None = None
    rejection_codes: list[telnyx.RejectionCode] | None = None


# ---------------------------------------------------------------------------- rows from API objects


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
    details_stale: bool = False


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


# ---------------------------------------------------------------------- port-outs and their details


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
    *,
    read_began: datetime | None = None,
) -> StoreResult:
    """One transaction: port-outs, their numbers and any complete reads of details (which
    began at `read_began`, by default `now`).

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


def _write_batch(
    portouts: Sequence[telnyx.Portout],
    now: datetime,
    existing: dict[str, _Existing],
    details: dict[str, Details],
    read_began: datetime,
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
        _write_details({k: v for k, v in details.items() if k in stored}, read_began)
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
) -> None:
    """Make the cached comments (or documents) of these port-outs exactly `rows`: one read
    of what is held, then only new or changed rows written and vanished ones deleted."""
    if not portout_ids:
        return
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


def _write_details(details: dict[str, Details], read_began: datetime) -> None:
    """Store complete reads of many port-outs with a constant number of queries: their
    comments, documents and codes become what Telnyx listed, and `details_synced_at` says
    when the read began (events received before then are reflected)."""
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
    _replace_children(Comment, ids, comments, _COMMENT_FIELDS)
    _replace_children(SupportingDocument, ids, documents, _DOCUMENT_FIELDS)
    if code_owners:
        RejectionCode.objects.filter(portout_id__in=code_owners).delete()
        RejectionCode.objects.bulk_create(codes, batch_size=1000)
    if ids:
        PortOut.objects.filter(id__in=ids).update(details_synced_at=read_began, details_stale=False)


def mark_details_stale(portout_ids: Iterable[str]) -> int:
    """Port-outs whose read failed after the client's retries: the next sync reads them again."""
    ids = list(portout_ids)
    return PortOut.objects.filter(id__in=ids).update(details_stale=True) if ids else 0


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
        _upsert(Comment, rows, _COMMENT_FIELDS)


def store_supporting_documents(portout_id: str, docs: Iterable[telnyx.SupportingDocument]) -> None:
    """Upsert the supporting documents of one port-out."""
    if _require_portout(portout_id):
        rows = [r for d in docs if (r := _document_row(portout_id, d)) is not None]
        _upsert(SupportingDocument, rows, _DOCUMENT_FIELDS)


def store_rejection_codes(portout_id: str, codes: Iterable[telnyx.RejectionCode]) -> None:
    """Replace the set of rejection codes Telnyx accepts for one port-out."""
    if _require_portout(portout_id):
        rows = _code_rows(portout_id, codes)
        with transaction.atomic():
            RejectionCode.objects.filter(portout_id=portout_id).delete()
            RejectionCode.objects.bulk_create(rows)


# -------------------------------------------------------------------- events and vanished port-outs


def store_events(
    events: Iterable[telnyx.PortoutEvent], *, source: str = PortOutEvent.Source.API
) -> list[str]:
    """Insert events not stored yet (idempotent on id); return the ids that were new."""
    rows: dict[str, PortOutEvent] = {}
    for e in events:
        if not e.id:
            logger.warning("Skipping an event without an id: %.200r", e.raw)
            continue
        if len(e.id) > PortOutEvent.ID_MAX_LENGTH:
            logger.warning("Skipping an event whose id is too long: %.80r", e.id)
            continue
        rows[e.id] = PortOutEvent(
            id=e.id,
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
    """Record a verified webhook delivery once; True when it was new (duplicates: False).

    The caller refuses ids longer than PortOutEvent.ID_MAX_LENGTH: they are stored whole.
    """
    portout_id = (event.portout_id or "")[:64]
    _, created = PortOutEvent.objects.get_or_create(
        id=event.id,
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


def mark_reflected_events(
    *, gone: Iterable[str] = (), read_began: datetime | None = None, now: datetime | None = None
) -> int:
    """Mark processed every event whose effect the cache now holds, in one UPDATE.

    The one rule of the sync: an event is processed once its port-out was read in full by a
    read that began after the event was received (`details_synced_at >= received_at`), or
    flagged vanished after it; an event naming no port-out announces nothing to store.
    `gone` lists ids Telnyx answered 404 for that a read beginning at `read_began` found:
    their earlier events are settled too, whether or not the cache ever held the port-out.
    Both times are ours (never Telnyx's clock), so clock skew cannot mark an event early.
    """
    reflected = PortOut.objects.filter(pk=OuterRef("portout_id")).filter(
        Q(details_synced_at__gte=OuterRef("received_at"))
        | Q(vanished_at__gte=OuterRef("received_at"))
    )
    settled = Q(portout_id="") | Q(Exists(reflected))
    gone = list(gone)
    if gone and read_began is not None:
        settled |= Q(portout_id__in=gone, received_at__lte=read_began)
    return (
        PortOutEvent.objects.filter(processed_at__isnull=True)
        .filter(settled)
        .update(processed_at=now or timezone.now())
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
