"""Typed, read-only views of Telnyx API objects (the wire types).

Their names end in `Data` (`PortoutData`, `CommentData`, `SupportingDocumentData`,
`RejectionCodeData`, `EventData`, ...) so that they are never mistaken for the models of
the cache (`PortOut`, `Comment`, `SupportingDocument`, `RejectionCode`, `PortOutEvent`).

Every type is a frozen dataclass built with `from_api(dict)`. Parsing is
deliberately forgiving: Telnyx adds fields and sends nulls, and a dashboard
should keep working when it does. Unknown fields are ignored (but kept in
`.raw`), missing or null ones become None (or an empty list / False where the
spec gives a default), datetime strings become aware UTC datetimes (None when
unparseable), and status values outside the published enum are kept as plain
strings and logged once.

One module (~460 lines) because it is one concern: a dataclass per API object, each
with its own forgiving parser, all sharing the same few field readers.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Self

__all__ = [
    "KNOWN_EVENT_TYPES",
    "PORTOUT_STATUSES",
    "REPORT_STATUSES",
    "DocumentData",
    "Page",
    "PageMeta",
    "PhoneNumberData",
    "PortoutData",
    "CommentData",
    "EventData",
    "ReportData",
    "RejectionCodeData",
    "SupportingDocumentData",
    "WebhookEvent",
    "parse_datetime",
]

logger = logging.getLogger("portouts.telnyx")

PORTOUT_STATUSES = frozenset(
    {"pending", "authorized", "ported", "rejected", "rejected-pending", "canceled"}
)
REPORT_STATUSES = frozenset({"pending", "completed"})
EVENT_STATUS_CHANGED = "portout.status_changed"
EVENT_NEW_COMMENT = "portout.new_comment"
EVENT_FOC_DATE_CHANGED = "portout.foc_date_changed"
KNOWN_EVENT_TYPES = frozenset({EVENT_STATUS_CHANGED, EVENT_NEW_COMMENT, EVENT_FOC_DATE_CHANGED})

_warned: set[tuple[str, str]] = set()
_warned_lock = threading.Lock()


def warn_once(kind: str, value: str) -> None:
    """Log an unexpected enum value at warning level, once per process."""
    with _warned_lock:
        if (kind, value) in _warned:
            return
        _warned.add((kind, value))
    logger.warning("Telnyx sent an unknown %s %r; keeping it as text", kind, value)


def parse_datetime(value: Any) -> datetime | None:
    """ISO 8601 string → aware datetime in UTC; None for null or unparseable input."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str) and value.strip():
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            return None
    else:
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _str(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)


def _int(data: dict[str, Any], key: str) -> int | None:
    value = data.get(key)
    if value is None or isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _bool(data: dict[str, Any], key: str, default: bool | None = None) -> bool | None:
    value = data.get(key)
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return default


def _str_list(data: dict[str, Any], key: str) -> list[str]:
    value = data.get(key)
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list):
        return []
    return [str(v) for v in value if v is not None]


def _dict(data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key)
    return value if isinstance(value, dict) else {}


def _status(data: dict[str, Any], key: str, known: frozenset[str], kind: str) -> str | None:
    value = _str(data, key)
    if value is not None and value not in known:
        warn_once(kind, value)
    return value


def _as_dict(data: Any) -> dict[str, Any]:
    return data if isinstance(data, dict) else {}


def _raw_field() -> Any:
    """The original API dict: kept for debugging and new fields, left out of repr/eq."""
    return field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True)
class PortoutData:
    """A port-out order (`PortoutDetails`)."""

    id: str | None = None
    record_type: str | None = None
    phone_numbers: list[str] = field(default_factory=list)
    authorized_name: str | None = None
    carrier_name: str | None = None
    current_carrier: str | None = None
    end_user_name: str | None = None
    city: str | None = None
    state: str | None = None
    zip: str | None = None
    lsr: list[str] = field(default_factory=list)
    pon: str | None = None
    reason: str | None = None
    rejection_code: int | None = None
    service_address: str | None = None
    foc_date: datetime | None = None
    requested_foc_date: datetime | None = None
    spid: str | None = None
    support_key: str | None = None
    status: str | None = None
    already_ported: bool | None = None
    user_id: str | None = None
    vendor: str | None = None
    created_at: datetime | None = None
    inserted_at: datetime | None = None
    updated_at: datetime | None = None
    host_messaging: bool = False
    raw: dict[str, Any] = _raw_field()

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Self:
        data = _as_dict(data)
        return cls(
            id=_str(data, "id"),
            record_type=_str(data, "record_type"),
            phone_numbers=_str_list(data, "phone_numbers"),
            authorized_name=_str(data, "authorized_name"),
            carrier_name=_str(data, "carrier_name"),
            current_carrier=_str(data, "current_carrier"),
            end_user_name=_str(data, "end_user_name"),
            city=_str(data, "city"),
            state=_str(data, "state"),
            zip=_str(data, "zip"),
            lsr=_str_list(data, "lsr"),
            pon=_str(data, "pon"),
            reason=_str(data, "reason"),
            rejection_code=_int(data, "rejection_code"),
            service_address=_str(data, "service_address"),
            foc_date=parse_datetime(data.get("foc_date")),
            requested_foc_date=parse_datetime(data.get("requested_foc_date")),
            spid=_str(data, "spid"),
            support_key=_str(data, "support_key"),
            status=_status(data, "status", PORTOUT_STATUSES, "port-out status"),
            already_ported=_bool(data, "already_ported"),
            user_id=_str(data, "user_id"),
            vendor=_str(data, "vendor"),
            created_at=parse_datetime(data.get("created_at")),
            inserted_at=parse_datetime(data.get("inserted_at")),
            updated_at=parse_datetime(data.get("updated_at")),
            host_messaging=bool(_bool(data, "host_messaging", False)),
            raw=data,
        )


@dataclass(frozen=True)
class CommentData:
    """A comment on a port-out; `user_id` is None when Telnyx staff wrote it."""

    id: str | None = None
    body: str | None = None
    user_id: str | None = None
    portout_id: str | None = None
    record_type: str | None = None
    created_at: datetime | None = None
    raw: dict[str, Any] = _raw_field()

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Self:
        data = _as_dict(data)
        return cls(
            id=_str(data, "id"),
            body=_str(data, "body"),
            user_id=_str(data, "user_id"),
            portout_id=_str(data, "portout_id"),
            record_type=_str(data, "record_type"),
            created_at=parse_datetime(data.get("created_at")),
            raw=data,
        )


@dataclass(frozen=True)
class SupportingDocumentData:
    """A document (LOA or invoice) attached to a port-out (`PortOutSupportingDocument`)."""

    id: str | None = None
    type: str | None = None
    document_id: str | None = None
    portout_id: str | None = None
    record_type: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    raw: dict[str, Any] = _raw_field()

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Self:
        data = _as_dict(data)
        return cls(
            id=_str(data, "id"),
            type=_str(data, "type"),
            document_id=_str(data, "document_id"),
            portout_id=_str(data, "portout_id"),
            record_type=_str(data, "record_type"),
            created_at=parse_datetime(data.get("created_at")),
            updated_at=parse_datetime(data.get("updated_at")),
            raw=data,
        )


@dataclass(frozen=True)
class RejectionCodeData:
    """A rejection reason allowed for one port-out (`PortoutRejection`)."""

    code: int | None = None
    description: str | None = None
    reason_required: bool = False
    raw: dict[str, Any] = _raw_field()

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Self:
        data = _as_dict(data)
        return cls(
            code=_int(data, "code"),
            description=_str(data, "description"),
            reason_required=bool(_bool(data, "reason_required", False)),
            raw=data,
        )


@dataclass(frozen=True)
class EventData:
    """An event from the Events API (not a webhook delivery: see `WebhookEvent`)."""

    id: str | None = None
    event_type: str | None = None
    portout_id: str | None = None
    available_notification_methods: list[str] = field(default_factory=list)
    payload_status: str | None = None
    payload: dict[str, Any] = field(default_factory=dict)
    record_type: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    raw: dict[str, Any] = _raw_field()

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Self:
        data = _as_dict(data)
        event_type = _str(data, "event_type")
        if event_type is not None and event_type not in KNOWN_EVENT_TYPES:
            warn_once("event type", event_type)
        return cls(
            id=_str(data, "id"),
            event_type=event_type,
            portout_id=_str(data, "portout_id"),
            available_notification_methods=_str_list(data, "available_notification_methods"),
            payload_status=_str(data, "payload_status"),
            payload=_dict(data, "payload"),
            record_type=_str(data, "record_type"),
            created_at=parse_datetime(data.get("created_at")),
            updated_at=parse_datetime(data.get("updated_at")),
            raw=data,
        )


@dataclass(frozen=True)
class ReportData:
    """A port-out report; `document_id` is set once `status` is "completed"."""

    id: str | None = None
    report_type: str | None = None
    status: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    document_id: str | None = None
    record_type: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    raw: dict[str, Any] = _raw_field()

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Self:
        data = _as_dict(data)
        return cls(
            id=_str(data, "id"),
            report_type=_str(data, "report_type"),
            status=_status(data, "status", REPORT_STATUSES, "report status"),
            params=_dict(data, "params"),
            document_id=_str(data, "document_id"),
            record_type=_str(data, "record_type"),
            created_at=parse_datetime(data.get("created_at")),
            updated_at=parse_datetime(data.get("updated_at")),
            raw=data,
        )

    @property
    def is_completed(self) -> bool:
        return self.status == "completed"


@dataclass(frozen=True)
class DocumentData:
    """A file in the Telnyx Documents service (`DocServiceDocument`); `size` in bytes."""

    id: str | None = None
    filename: str | None = None
    content_type: str | None = None
    size: int | None = None
    status: str | None = None
    av_scan_status: str | None = None
    sha256: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    customer_reference: str | None = None
    record_type: str | None = None
    raw: dict[str, Any] = _raw_field()

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Self:
        data = _as_dict(data)
        size_obj = data.get("size")
        size = _int(size_obj, "amount") if isinstance(size_obj, dict) else _int(data, "size")
        return cls(
            id=_str(data, "id"),
            filename=_str(data, "filename"),
            content_type=_str(data, "content_type"),
            size=size,
            status=_str(data, "status"),
            av_scan_status=_str(data, "av_scan_status"),
            sha256=_str(data, "sha256"),
            created_at=parse_datetime(data.get("created_at")),
            updated_at=parse_datetime(data.get("updated_at")),
            customer_reference=_str(data, "customer_reference"),
            record_type=_str(data, "record_type"),
            raw=data,
        )


@dataclass(frozen=True)
class PhoneNumberData:
    """A number of the account's inventory (`GET /phone_numbers`): who it is for
    (`customer_reference`, `tags`), since when (`purchased_at`) and how (`source`)."""

    id: str | None = None
    record_type: str | None = None
    phone_number: str | None = None
    status: str | None = None
    tags: list[str] = field(default_factory=list)
    customer_reference: str | None = None
    source: str | None = None
    connection_id: str | None = None
    purchased_at: datetime | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    raw: dict[str, Any] = _raw_field()

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Self:
        data = _as_dict(data)
        return cls(
            id=_str(data, "id"),
            record_type=_str(data, "record_type"),
            phone_number=_str(data, "phone_number"),
            status=_str(data, "status"),
            tags=_str_list(data, "tags"),
            customer_reference=_str(data, "customer_reference"),
            source=_str(data, "source"),
            connection_id=_str(data, "connection_id"),
            purchased_at=parse_datetime(data.get("purchased_at")),
            created_at=parse_datetime(data.get("created_at")),
            updated_at=parse_datetime(data.get("updated_at")),
            raw=data,
        )


@dataclass(frozen=True)
class PageMeta:
    """Pagination block of a list response (`Metadata` / `PaginationMeta`)."""

    page_number: int | None = None
    page_size: int | None = None
    total_pages: int | None = None
    total_results: int | None = None

    @classmethod
    def from_api(cls, data: dict[str, Any] | None) -> Self:
        data = _as_dict(data)
        return cls(
            page_number=_int(data, "page_number"),
            page_size=_int(data, "page_size"),
            total_pages=_int(data, "total_pages"),
            total_results=_int(data, "total_results"),
        )


@dataclass(frozen=True)
class Page[T]:
    """One page of a list endpoint, with its pagination meta."""

    data: list[T]
    meta: PageMeta

    @property
    def has_next(self) -> bool:
        """True when Telnyx reports more pages after this one (and this one was not empty)."""
        return self.next_number(self.meta.page_number or 1) is not None

    def next_number(self, asked: int) -> int | None:
        """The page to ask for after this one (asked as `asked`), or None at the end: an
        empty page, no total, or the last page (by the number Telnyx echoes, never behind
        the one asked, so a server that echoes nothing cannot loop the walk)."""
        current = max(self.meta.page_number or asked, asked)
        total = self.meta.total_pages
        if not self.data or total is None or current >= total:
            return None
        return current + 1


def walk_pages[T](fetch: Callable[[int], Page[T]]) -> Iterator[Page[T]]:
    """Pages 1, 2, ... of a listing until Telnyx says there is no next; the one page walker
    of the client and the sync."""
    number: int | None = 1
    while number is not None:
        page = fetch(number)
        yield page
        number = page.next_number(number)


@dataclass(frozen=True)
class WebhookEvent:
    """A webhook delivery (`{data: {...}, meta: {...}}`), flattened.

    `portout_id` always names the port-out: `payload.portout_id` for
    `portout.new_comment` (whose `payload.id` is the comment, exposed as
    `comment_id`), `payload.id` for the other event types.
    """

    id: str
    event_type: str
    occurred_at: datetime | None = None
    payload: dict[str, Any] = field(default_factory=dict)
    portout_id: str | None = None
    comment_id: str | None = None
    attempt: int | None = None
    delivered_to: str | None = None
    record_type: str | None = None
    raw: dict[str, Any] = _raw_field()

    @property
    def is_known_type(self) -> bool:
        return self.event_type in KNOWN_EVENT_TYPES
