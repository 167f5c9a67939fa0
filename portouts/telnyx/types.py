"""Typed, read-only views of Telnyx API objects (the wire types).

Their names end in `Data` (`PortoutData`, `CommentData`, `SupportingDocumentData`,
`RejectionCodeData`, `EventData`, ...) so that they are never mistaken for the models of
the cache (`PortOut`, `Comment`, `SupportingDocument`, `RejectionCode`, `PortOutEvent`).

Every type is a frozen dataclass built with `from_api(dict)` (`fields.WireType`), which
reads each field by its annotation with the forgiving readers of `fields.py`; a type
reads the few fields that need more (a status checked against its enum) itself. Unknown
fields are ignored but kept in `.raw`. Pages of a listing are in
`paging.py`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .fields import WireType, raw_field, read_int, read_status, read_str, warn_once

__all__ = [
    "KNOWN_EVENT_TYPES",
    "PORTOUT_STATUSES",
    "REPORT_STATUSES",
    "DocumentData",
    "PhoneNumberData",
    "PortoutData",
    "CommentData",
    "EventData",
    "ReportData",
    "RejectionCodeData",
    "SupportingDocumentData",
    "WebhookEvent",
]

PORTOUT_STATUSES = frozenset(
    {"pending", "authorized", "ported", "rejected", "rejected-pending", "canceled"}
)
REPORT_STATUSES = frozenset({"pending", "completed"})
EVENT_STATUS_CHANGED = "portout.status_changed"
EVENT_NEW_COMMENT = "portout.new_comment"
EVENT_FOC_DATE_CHANGED = "portout.foc_date_changed"
KNOWN_EVENT_TYPES = frozenset({EVENT_STATUS_CHANGED, EVENT_NEW_COMMENT, EVENT_FOC_DATE_CHANGED})


@dataclass(frozen=True)
class PortoutData(WireType):
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
    raw: dict[str, Any] = raw_field()

    @classmethod
    def read_specially(cls, data: dict[str, Any]) -> dict[str, Any]:
        return {"status": read_status(data, "status", PORTOUT_STATUSES, "port-out status")}


@dataclass(frozen=True)
class CommentData(WireType):
    """A comment on a port-out; `user_id` is None when Telnyx staff wrote it."""

    id: str | None = None
    body: str | None = None
    user_id: str | None = None
    portout_id: str | None = None
    record_type: str | None = None
    created_at: datetime | None = None
    raw: dict[str, Any] = raw_field()


@dataclass(frozen=True)
class SupportingDocumentData(WireType):
    """A document (LOA or invoice) attached to a port-out (`PortOutSupportingDocument`)."""

    id: str | None = None
    type: str | None = None
    document_id: str | None = None
    portout_id: str | None = None
    record_type: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    raw: dict[str, Any] = raw_field()


@dataclass(frozen=True)
class RejectionCodeData(WireType):
    """A rejection reason allowed for one port-out (`PortoutRejection`)."""

    code: int | None = None
    description: str | None = None
    reason_required: bool = False
    raw: dict[str, Any] = raw_field()


@dataclass(frozen=True)
class EventData(WireType):
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
    raw: dict[str, Any] = raw_field()

    @classmethod
    def read_specially(cls, data: dict[str, Any]) -> dict[str, Any]:
        event_type = read_str(data, "event_type")
        if event_type is not None and event_type not in KNOWN_EVENT_TYPES:
            warn_once("event type", event_type)
        return {"event_type": event_type}


@dataclass(frozen=True)
class ReportData(WireType):
    """A port-out report; `document_id` is set once `status` is "completed"."""

    id: str | None = None
    report_type: str | None = None
    status: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    document_id: str | None = None
    record_type: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    raw: dict[str, Any] = raw_field()

    @classmethod
    def read_specially(cls, data: dict[str, Any]) -> dict[str, Any]:
        return {"status": read_status(data, "status", REPORT_STATUSES, "report status")}

    @property
    def is_completed(self) -> bool:
        return self.status == "completed"


@dataclass(frozen=True)
class DocumentData(WireType):
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
    raw: dict[str, Any] = raw_field()

    @classmethod
    def read_specially(cls, data: dict[str, Any]) -> dict[str, Any]:
        """`size` is `{"amount": n, "unit": "bytes"}` on the wire (a plain number is read too)."""
        size = data.get("size")
        return {
            "size": read_int(size, "amount") if isinstance(size, dict) else read_int(data, "size")
        }


@dataclass(frozen=True)
class PhoneNumberData(WireType):
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
    raw: dict[str, Any] = raw_field()


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
    raw: dict[str, Any] = raw_field()

    @property
    def is_known_type(self) -> bool:
        return self.event_type in KNOWN_EVENT_TYPES
