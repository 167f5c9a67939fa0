"""Rows from Telnyx's objects: one place where API data is read into model instances and
cut to what the columns hold (with a warning), so one odd value never stops a page."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import phonenumbers

from portouts import telnyx
from portouts.models import (
    Comment,
    PortOut,
    PortOutNumber,
    PortOutStatus,
    RejectionCode,
    SupportingDocument,
)

logger = logging.getLogger("portouts.sync")

E164 = re.compile(r"^\+[1-9]\d{1,14}$")

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


def _build_row(p: telnyx.PortoutData, prev: _Existing | None, now: datetime) -> PortOut | None:
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


def _comment_row(portout_id: str, c: telnyx.CommentData) -> Comment | None:
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


def _document_row(portout_id: str, d: telnyx.SupportingDocumentData) -> SupportingDocument | None:
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


def _code_rows(portout_id: str, codes: Iterable[telnyx.RejectionCodeData]) -> list[RejectionCode]:
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
