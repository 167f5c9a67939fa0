"""The sandbox's records and their Telnyx wire shapes, with the vocabulary they use.

Plain slotted dataclasses, nothing else: seeding builds them without touching the state,
and every other module (indexes, filters, workflow, reports, the server) shares them.
Each record renders its own API object (`to_dict`); an event needs its port-out for that,
as Telnyx's event payloads repeat port-out fields.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple

from .errors import SandboxError
from .params import parse_datetime

__all__ = [
    "ACCOUNT_USER_ID",
    "CARRIER_USER_ID",
    "EVENT_TYPES",
    "REJECTION_CATALOG",
    "REPORT_STATUSES",
    "REPORT_TYPES",
    "STATUSES",
    "Comment",
    "Document",
    "Event",
    "PortOut",
    "PortoutHistory",
    "Report",
    "SupportingDocument",
    "dumps",
    "iso",
    "normalize_number",
    "to_ts",
]

STATUSES = ("pending", "authorized", "ported", "rejected", "rejected-pending", "canceled")
EVENT_TYPES = ("portout.status_changed", "portout.new_comment", "portout.foc_date_changed")
REPORT_TYPES = ("export_portouts_csv",)
REPORT_STATUSES = ("pending", "completed")

#: The account (API key owner) the sandbox pretends to be, the `user_id` of its port-outs;
#: comments posted through the API carry this user id, Telnyx staff comments carry None.
ACCOUNT_USER_ID = "7865816a-ee85-4e50-b19e-52983dcc6d4a"
#: A user of the gaining carrier: its comments carry this id, neither null nor the account's.
CARRIER_USER_ID = "5d0c3e91-42b7-4f6a-9c18-e2a7b4f0d653"

#: code -> (description, reason_required). 1001 and 1002 are the documented ones.
REJECTION_CATALOG: dict[int, tuple[str, bool]] = {
    1001: ("Other", True),
    1002: ("Invalid PIN", False),
    1003: ("Account number mismatch", False),
    1004: ("Subscriber name mismatch", False),
    1005: ("Service address mismatch", False),
    1006: ("Numbers not active on account", False),
    1007: ("Port-out protection enabled on the account", False),
    1008: ("Partial port not allowed for this account", True),
}


def iso(ts: float | None) -> str | None:
    """Epoch seconds -> '2018-02-02T22:25:27.521Z' (the spec's format)."""
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds")[:-6] + "Z"


def dumps(obj: Any) -> bytes:
    """Compact UTF-8 JSON, as every response body and cached record is written."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


def normalize_number(value: str) -> str:
    """'+1 (303) 555-1212', '3035551212', '13035551212' -> '+13035551212'."""
    digits = re.sub(r"\D", "", value)
    if value.strip().startswith("+"):
        return "+" + digits
    if len(digits) == 10:
        return "+1" + digits
    return "+" + digits


def to_ts(value: datetime | float | int | str, name: str) -> float:
    """A datetime, epoch seconds or ISO 8601 string as epoch seconds (422 names `name`)."""
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()
    if isinstance(value, int | float):
        return float(value)
    parsed = parse_datetime(value)
    if parsed is None:
        raise SandboxError("10016", f"'{value}' is not a valid date-time.", pointer=f"/{name}")
    return parsed


@dataclass(slots=True, eq=False)
class PortOut:
    id: str
    phone_numbers: list[str]
    authorized_name: str
    carrier_name: str
    spid: str
    end_user_name: str
    city: str
    state: str
    zip: str
    service_address: str
    pon: str
    support_key: str
    status: str
    created_ts: float
    updated_ts: float
    foc_ts: float
    requested_foc_ts: float
    country_code: str = "US"
    customer_reference: str = ""
    user_id: str = ACCOUNT_USER_ID
    vendor: str = "0e66ed3b-37e6-4fed-93d6-a30ce2493661"
    reason: str | None = None
    rejection_code: int | None = None
    host_messaging: bool = False
    ported_out_ts: float | None = None
    rejection_codes: tuple[int, ...] = (1001, 1002)
    attempted_pin: str = "0000"
    #: when Telnyx authorizes it if nobody answers (pending only; not on the wire)
    authorize_ts: float | None = None
    version: int = 0
    json_cache: bytes | None = None

    @property
    def key(self) -> tuple[float, str]:
        return (self.created_ts, self.id)

    def to_dict(self, root: str) -> dict[str, Any]:
        return {
            "id": self.id,
            "record_type": "portout",
            "phone_numbers": list(self.phone_numbers),
            "authorized_name": self.authorized_name,
            "carrier_name": self.carrier_name,
            "current_carrier": "telnyx",
            "end_user_name": self.end_user_name,
            "city": self.city,
            "state": self.state,
            "zip": self.zip,
            "lsr": [f"{root}/files/lsr/{self.id}.pdf"],
            "pon": self.pon,
            "reason": self.reason,
            "rejection_code": self.rejection_code,
            "service_address": self.service_address,
            "foc_date": iso(self.foc_ts),
            "requested_foc_date": iso(self.requested_foc_ts),
            "spid": self.spid,
            "support_key": self.support_key,
            "status": self.status,
            "already_ported": self.status == "ported",
            "user_id": self.user_id,
            "vendor": self.vendor,
            "created_at": iso(self.created_ts),
            "inserted_at": iso(self.created_ts),
            "updated_at": iso(self.updated_ts),
            "host_messaging": self.host_messaging,
        }


@dataclass(slots=True, eq=False)
class Event:
    id: str
    event_type: str
    portout_id: str
    created_ts: float
    status: str | None = None
    reason: str | None = None
    foc_ts: float | None = None
    comment_id: str | None = None
    comment_body: str | None = None
    comment_user_id: str | None = None
    json_cache: bytes | None = None

    @property
    def key(self) -> tuple[float, str]:
        return (self.created_ts, self.id)

    def payload(self, po: PortOut) -> dict[str, Any]:
        """The event's payload; `po` is its port-out as it is now."""
        if self.event_type == "portout.status_changed":
            return {
                "id": po.id,
                "status": self.status,
                "phone_numbers": list(po.phone_numbers),
                "carrier_name": po.carrier_name,
                "spid": po.spid,
                "user_id": po.user_id,
                "subscriber_name": po.end_user_name,
                "rejection_reason": self.reason,
                "attempted_pin": po.attempted_pin,
            }
        if self.event_type == "portout.new_comment":
            return {
                "id": self.comment_id,
                "portout_id": po.id,
                "user_id": self.comment_user_id,
                "comment": self.comment_body,
            }
        return {"id": po.id, "user_id": po.user_id, "foc_date": iso(self.foc_ts)}

    def to_dict(self, po: PortOut) -> dict[str, Any]:
        """The Events API object (PortoutEvent)."""
        return {
            "id": self.id,
            "event_type": self.event_type,
            "portout_id": self.portout_id,
            "available_notification_methods": ["email", "webhook"],
            "payload_status": "completed",
            "payload": self.payload(po),
            "record_type": "portout_event",
            "created_at": iso(self.created_ts),
            "updated_at": iso(self.created_ts),
        }

    def webhook_data(self, po: PortOut) -> dict[str, Any]:
        """The `data` part of a webhook delivery (record_type "event", occurred_at)."""
        return {
            "event_type": self.event_type,
            "id": self.id,
            "occurred_at": iso(self.created_ts),
            "payload": self.payload(po),
            "record_type": "event",
        }


@dataclass(slots=True, eq=False)
class Comment:
    id: str
    portout_id: str
    body: str
    user_id: str | None
    created_ts: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "record_type": "portout",
            "body": self.body,
            "portout_id": self.portout_id,
            "user_id": self.user_id,
            "created_at": iso(self.created_ts),
        }


@dataclass(slots=True, eq=False)
class SupportingDocument:
    id: str
    portout_id: str
    type: str
    document_id: str
    created_ts: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "record_type": "supporting_document",
            "type": self.type,
            "portout_id": self.portout_id,
            "document_id": self.document_id,
            "created_at": iso(self.created_ts),
            "updated_at": iso(self.created_ts),
        }


@dataclass(slots=True, eq=False)
class Document:
    id: str
    filename: str
    content_type: str
    created_ts: float
    customer_reference: str | None = None
    status: str = "pending"
    av_scan_status: str = "scanned"
    _content: bytes | None = None
    render: Callable[[], bytes] | None = None

    @property
    def content(self) -> bytes:
        if self._content is None:
            self._content = self.render() if self.render is not None else b""
            self.render = None
        return self._content

    def to_dict(self) -> dict[str, Any]:
        body = self.content
        return {
            "id": self.id,
            "record_type": "document",
            "content_type": self.content_type,
            "size": {"unit": "bytes", "amount": len(body)},
            "status": self.status,
            "sha256": hashlib.sha256(body).hexdigest(),
            "filename": self.filename,
            "customer_reference": self.customer_reference,
            "av_scan_status": self.av_scan_status,
            "created_at": iso(self.created_ts),
            "updated_at": iso(self.created_ts),
        }


@dataclass(slots=True, eq=False)
class Report:
    id: str
    report_type: str
    filters: dict[str, Any]
    created_ts: float
    status: str = "pending"
    document_id: str | None = None
    updated_ts: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "report_type": self.report_type,
            "status": self.status,
            "params": {"filters": self.filters},
            "document_id": self.document_id,
            "record_type": "portout_report",
            "created_at": iso(self.created_ts),
            "updated_at": iso(self.updated_ts or self.created_ts),
        }


class PortoutHistory(NamedTuple):
    """A port-out with everything recorded about it, as seeding hands it to the state."""

    portout: PortOut
    events: list[Event]
    comments: list[Comment]
    documents: list[tuple[SupportingDocument, Document]]
    #: when the scheduler changes it on its own (authorized: ports; rejected-pending: rejected)
    due: float | None
