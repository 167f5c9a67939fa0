"""Typed, read-only views of Telnyx API objects (the wire types).

Their names end in `Data` (`PortoutData`, `CommentData`, `SupportingDocumentData`,
`RejectionCodeData`, `EventData`, ...) so that they are never mistaken for the models of
the cache (`PortOut`, `Comment`, `SupportingDocument`, `RejectionCode`, `PortOutEvent`).

Every type is a frozen dataclass built with `from_api(dict)` from the forgiving readers
of `fields.py`; unknown fields are ignored but kept in `.raw`. Pages of a listing are in
`paging.py`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Self

from .fields import (
    as_dict,
    parse_datetime,
    raw_field,
    read_bool,
    read_dict,
    read_int,
    read_status,
    read_str,
    read_str_list,
    warn_once,
)

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
    raw: dict[str, Any] = raw_field()

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Self:
        data = as_dict(data)
        return cls(
            id=read_str(data, "id"),
            record_type=read_str(data, "record_type"),
            phone_numbers=read_str_list(data, "phone_numbers"),
            authorized_name=read_str(data, "authorized_name"),
            carrier_name=read_str(data, "carrier_name"),
            current_carrier=read_str(data, "current_carrier"),
            end_user_name=read_str(data, "end_user_name"),
            city=read_str(data, "city"),
            state=read_str(data, "state"),
            zip=read_str(data, "zip"),
            lsr=read_str_list(data, "lsr"),
            pon=read_str(data, "pon"),
            reason=read_str(data, "reason"),
            rejection_code=read_int(data, "rejection_code"),
            service_address=read_str(data, "service_address"),
            foc_date=parse_datetime(data.get("foc_date")),
            requested_foc_date=parse_datetime(data.get("requested_foc_date")),
            spid=read_str(data, "spid"),
            support_key=read_str(data, "support_key"),
            status=read_status(data, "status", PORTOUT_STATUSES, "port-out status"),
            already_ported=read_bool(data, "already_ported"),
            user_id=read_str(data, "user_id"),
            vendor=read_str(data, "vendor"),
            created_at=parse_datetime(data.get("created_at")),
            inserted_at=parse_datetime(data.get("inserted_at")),
            updated_at=parse_datetime(data.get("updated_at")),
            host_messaging=bool(read_bool(data, "host_messaging", False)),
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
    raw: dict[str, Any] = raw_field()

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Self:
        data = as_dict(data)
        return cls(
            id=read_str(data, "id"),
            body=read_str(data, "body"),
            user_id=read_str(data, "user_id"),
            portout_id=read_str(data, "portout_id"),
            record_type=read_str(data, "record_type"),
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
    raw: dict[str, Any] = raw_field()

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Self:
        data = as_dict(data)
        return cls(
            id=read_str(data, "id"),
            type=read_str(data, "type"),
            document_id=read_str(data, "document_id"),
            portout_id=read_str(data, "portout_id"),
            record_type=read_str(data, "record_type"),
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
    raw: dict[str, Any] = raw_field()

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Self:
        data = as_dict(data)
        return cls(
            code=read_int(data, "code"),
            description=read_str(data, "description"),
            reason_required=bool(read_bool(data, "reason_required", False)),
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
    raw: dict[str, Any] = raw_field()

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Self:
        data = as_dict(data)
        event_type = read_str(data, "event_type")
        if event_type is not None and event_type not in KNOWN_EVENT_TYPES:
            warn_once("event type", event_type)
        return cls(
            id=read_str(data, "id"),
            event_type=event_type,
            portout_id=read_str(data, "portout_id"),
            available_notification_methods=read_str_list(data, "available_notification_methods"),
            payload_status=read_str(data, "payload_status"),
            payload=read_dict(data, "payload"),
            record_type=read_str(data, "record_type"),
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
    raw: dict[str, Any] = raw_field()

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Self:
        data = as_dict(data)
        return cls(
            id=read_str(data, "id"),
            report_type=read_str(data, "report_type"),
            status=read_status(data, "status", REPORT_STATUSES, "report status"),
            params=read_dict(data, "params"),
            document_id=read_str(data, "document_id"),
            record_type=read_str(data, "record_type"),
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
    raw: dict[str, Any] = raw_field()

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Self:
        data = as_dict(data)
        size_obj = data.get("size")
        size = (
            read_int(size_obj, "amount") if isinstance(size_obj, dict) else read_int(data, "size")
        )
        return cls(
            id=read_str(data, "id"),
            filename=read_str(data, "filename"),
            content_type=read_str(data, "content_type"),
            size=size,
            status=read_str(data, "status"),
            av_scan_status=read_str(data, "av_scan_status"),
            sha256=read_str(data, "sha256"),
            created_at=parse_datetime(data.get("created_at")),
            updated_at=parse_datetime(data.get("updated_at")),
            customer_reference=read_str(data, "customer_reference"),
            record_type=read_str(data, "record_type"),
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
    raw: dict[str, Any] = raw_field()

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Self:
        data = as_dict(data)
        return cls(
            id=read_str(data, "id"),
            record_type=read_str(data, "record_type"),
            phone_number=read_str(data, "phone_number"),
            status=read_str(data, "status"),
            tags=read_str_list(data, "tags"),
            customer_reference=read_str(data, "customer_reference"),
            source=read_str(data, "source"),
            connection_id=read_str(data, "connection_id"),
            purchased_at=parse_datetime(data.get("purchased_at")),
            created_at=parse_datetime(data.get("created_at")),
            updated_at=parse_datetime(data.get("updated_at")),
            raw=data,
        )


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
