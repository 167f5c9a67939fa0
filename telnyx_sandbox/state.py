"""In-memory Telnyx port-out world: records, indexes, the state machine and filtering.

Everything lives behind one re-entrant lock so the threaded HTTP server, the traffic
generator, the scheduler and tests can all touch it. Lists are served from indexes
(sorted `(created_ts, id)` keys overall and per status) and each record caches its own
JSON bytes, so a page of 250 out of 100,000 costs a slice plus a join, not a scan.

Public mutators (`create_portout`, `update_status`, `change_status`, `change_foc_date`,
`add_comment`, ...) each record an event and hand it to the listeners (the webhook
dispatcher), exactly like a change made by Telnyx, the carrier or the API.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import csv
import hashlib
import heapq
import io
import itertools
import json
import math
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .errors import SandboxError
from .params import parse_datetime

__all__ = [
    "ACCOUNT_USER_ID",
    "EVENT_TYPES",
    "REJECTION_CATALOG",
    "STATUSES",
    "Comment",
    "Document",
    "Event",
    "PortOut",
    "PortoutFilter",
    "Report",
    "SandboxState",
    "SupportingDocument",
    "iso",
]

STATUSES = ("pending", "authorized", "ported", "rejected", "rejected-pending", "canceled")
EVENT_TYPES = ("portout.status_changed", "portout.new_comment", "portout.foc_date_changed")
API_STATUSES = ("authorized", "rejected-pending")
DOCUMENT_TYPES = ("loa", "invoice")
REPORT_TYPES = ("export_portouts_csv",)
REPORT_STATUSES = ("pending", "completed")
REPORT_FILTER_KEYS = (
    "status__in",
    "customer_reference__in",
    "end_user_name",
    "phone_numbers__overlaps",
    "created_at__lt",
    "created_at__gt",
)
MAX_DOCUMENT_BYTES = 20 * 1024 * 1024

#: The account (API key owner) the sandbox pretends to be; comments posted through the API
#: carry this user id, Telnyx staff comments carry None.
ACCOUNT_USER_ID = "7865816a-ee85-4e50-b19e-52983dcc6d4a"

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

#: transitions made by Telnyx, the carriers or Porting Ops (not the API user)
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "pending": ("authorized", "rejected-pending", "canceled"),
    "authorized": ("ported", "canceled"),
    "rejected-pending": ("rejected", "pending"),
    "ported": (),
    "rejected": (),
    "canceled": (),
}

CSV_COLUMNS = (
    "id",
    "support_key",
    "status",
    "phone_numbers",
    "carrier_name",
    "spid",
    "pon",
    "end_user_name",
    "authorized_name",
    "service_address",
    "city",
    "state",
    "zip",
    "customer_reference",
    "foc_date",
    "requested_foc_date",
    "rejection_code",
    "reason",
    "created_at",
    "updated_at",
)


def iso(ts: float | None) -> str | None:
    """Epoch seconds -> '2018-02-02T22:25:27.521Z' (the spec's format)."""
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds")[:-6] + "Z"


def _dumps(obj: Any) -> bytes:
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


@dataclass
class PortoutFilter:
    """GET /portouts filters, already validated and normalised."""

    statuses: list[str] | None = None
    carrier_name: str | None = None
    spid: str | None = None
    pon: str | None = None
    phone_number: str | None = None
    support_key: str | None = None
    country_codes: list[str] | None = None
    foc_date: str | None = None  # YYYY-MM-DD (UTC)
    inserted_gte: float | None = None
    inserted_lte: float | None = None
    ported_gte: float | None = None
    ported_lte: float | None = None
    customer_references: list[str] | None = None
    end_user_name: str | None = None
    phone_numbers_any: list[str] | None = None
    created_gt: float | None = None
    created_lt: float | None = None
    extra: list[Callable[[PortOut], bool]] = field(default_factory=list)


Listener = Callable[[Event], None]


class SandboxState:
    """All sandbox data plus the rules Telnyx applies to it."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.time,
        reject_delay: float = 30.0,
        report_delay: float = 3.0,
        public_root: str = "http://127.0.0.1",
    ) -> None:
        self.lock = threading.RLock()
        self.clock = clock
        self.reject_delay = reject_delay
        self.report_delay = report_delay
        self._public_root = public_root
        self.listeners: list[Listener] = []
        self._seq = itertools.count()
        self.clear()

    # ------------------------------------------------------------------ basics

    def clear(self) -> None:
        with self.lock:
            self.portouts: dict[str, PortOut] = {}
            self._order: list[tuple[float, str]] = []
            self._by_status: dict[str, list[tuple[float, str]]] = {s: [] for s in STATUSES}
            # number/PON -> one id, or a list of ids when shared (rare; saves 100k sets)
            self._by_phone: dict[str, str | list[str]] = {}
            self._by_support_key: dict[str, str] = {}
            self._by_pon: dict[str, str | list[str]] = {}
            self.events: dict[str, Event] = {}
            self._event_order: list[tuple[float, str]] = []
            self._events_by_type: dict[str, list[tuple[float, str]]] = {t: [] for t in EVENT_TYPES}
            self._events_by_portout: dict[str, list[str]] = {}
            self.comments: dict[str, list[Comment]] = {}
            self.supporting_documents: dict[str, list[SupportingDocument]] = {}
            self.documents: dict[str, Document] = {}
            self.reports: dict[str, Report] = {}
            self._report_order: list[tuple[float, str]] = []
            self._due: list[tuple[float, int, str, str, int]] = []
            self._support_counter = 0

    @property
    def public_root(self) -> str:
        return self._public_root

    @public_root.setter
    def public_root(self, value: str) -> None:
        with self.lock:
            if value != self._public_root:
                self._public_root = value.rstrip("/")
                for po in self.portouts.values():
                    po.json_cache = None

    def now(self) -> float:
        return self.clock()

    def next_support_key(self) -> str:
        """Unique `PO_nnnnnn` keys: a stride permutation of 100000..999999."""
        with self.lock:
            n = self._support_counter
            self._support_counter += 1
            return f"PO_{(n * 7919 + 264725) % 900000 + 100000}"

    def _emit(self, event: Event) -> None:
        for listener in list(self.listeners):
            listener(event)

    # ------------------------------------------------------------------ indexing

    def _index_portout(self, po: PortOut, *, bulk: bool = False) -> None:
        self.portouts[po.id] = po
        key = po.key
        if bulk:
            self._order.append(key)
            self._by_status[po.status].append(key)
        else:
            bisect.insort(self._order, key)
            bisect.insort(self._by_status[po.status], key)
        pid = po.id
        by_phone = self._by_phone
        for number in po.phone_numbers:
            if number in by_phone:
                _multi_add(by_phone, number, pid)
            else:
                by_phone[number] = pid
        self._by_support_key[po.support_key] = pid
        if po.pon in self._by_pon:
            _multi_add(self._by_pon, po.pon, pid)
        else:
            self._by_pon[po.pon] = pid

    def _index_event(self, ev: Event, *, bulk: bool = False) -> None:
        self.events[ev.id] = ev
        key = ev.key
        if bulk:
            self._event_order.append(key)
            self._events_by_type[ev.event_type].append(key)
            self._events_by_portout.setdefault(ev.portout_id, []).append(ev.id)
            return
        for lst in (self._event_order, self._events_by_type[ev.event_type]):
            if not lst or lst[-1] <= key:
                lst.append(key)
            else:
                bisect.insort(lst, key)
        self._events_by_portout.setdefault(ev.portout_id, []).append(ev.id)

    def finish_bulk(self) -> None:
        """Sort indexes after a bulk load (seeding appends unsorted)."""
        with self.lock:
            self._order.sort()
            for lst in self._by_status.values():
                lst.sort()
            self._event_order.sort()
            for lst in self._events_by_type.values():
                lst.sort()
            for ids in self._events_by_portout.values():
                ids.sort(key=lambda i: self.events[i].key)
            for comments in self.comments.values():
                comments.sort(key=lambda c: c.created_ts)
            heapq.heapify(self._due)

    def _move_status(self, po: PortOut, new_status: str) -> None:
        old = self._by_status[po.status]
        key = po.key
        index = bisect.bisect_left(old, key)
        if index < len(old) and old[index] == key:
            del old[index]
        bisect.insort(self._by_status[new_status], key)
        po.status = new_status
        po.version += 1

    def _schedule(self, when: float, kind: str, obj_id: str, version: int = 0) -> None:
        heapq.heappush(self._due, (when, next(self._seq), kind, obj_id, version))

    def new_id(self) -> str:
        return str(uuid.uuid4())

    # ------------------------------------------------------------------ events

    def record_event(
        self,
        event_type: str,
        po: PortOut,
        *,
        at: float | None = None,
        event_id: str | None = None,
        emit: bool = True,
        bulk: bool = False,
        **fields: Any,
    ) -> Event:
        ev = Event(
            id=event_id or self.new_id(),
            event_type=event_type,
            portout_id=po.id,
            created_ts=self.now() if at is None else at,
            **fields,
        )
        self._index_event(ev, bulk=bulk)
        if emit:
            self._emit(ev)
        return ev

    def event_payload(self, ev: Event) -> dict[str, Any]:
        po = self.portouts[ev.portout_id]
        if ev.event_type == "portout.status_changed":
            return {
                "id": po.id,
                "status": ev.status,
                "phone_numbers": list(po.phone_numbers),
                "carrier_name": po.carrier_name,
                "spid": po.spid,
                "user_id": po.user_id,
                "subscriber_name": po.end_user_name,
                "rejection_reason": ev.reason,
                "attempted_pin": po.attempted_pin,
            }
        if ev.event_type == "portout.new_comment":
            return {
                "id": ev.comment_id,
                "portout_id": po.id,
                "user_id": ev.comment_user_id,
                "comment": ev.comment_body,
            }
        return {"id": po.id, "user_id": po.user_id, "foc_date": iso(ev.foc_ts)}

    def event_dict(self, ev: Event) -> dict[str, Any]:
        """The Events API object (PortoutEvent)."""
        return {
            "id": ev.id,
            "event_type": ev.event_type,
            "portout_id": ev.portout_id,
            "available_notification_methods": ["email", "webhook"],
            "payload_status": "completed",
            "payload": self.event_payload(ev),
            "record_type": "portout_event",
            "created_at": iso(ev.created_ts),
            "updated_at": iso(ev.created_ts),
        }

    def event_json(self, ev: Event) -> bytes:
        if ev.json_cache is None:
            ev.json_cache = _dumps(self.event_dict(ev))
        return ev.json_cache

    def webhook_data(self, ev: Event) -> dict[str, Any]:
        """The `data` part of a webhook delivery (record_type "event", occurred_at)."""
        with self.lock:
            return {
                "event_type": ev.event_type,
                "id": ev.id,
                "occurred_at": iso(ev.created_ts),
                "payload": self.event_payload(ev),
                "record_type": "event",
            }

    # ------------------------------------------------------------------ port-outs: reads

    def portout_json(self, po: PortOut) -> bytes:
        if po.json_cache is None:
            po.json_cache = _dumps(po.to_dict(self._public_root))
        return po.json_cache

    def get_portout(self, portout_id: str) -> PortOut:
        with self.lock:
            po = self.portouts.get(portout_id)
            if po is None:
                raise SandboxError("10005", f"Port-out '{portout_id}' was not found.")
            return po

    def list_portouts(
        self, flt: PortoutFilter, page: int, size: int
    ) -> tuple[list[bytes], dict[str, int]]:
        with self.lock:
            self.advance()
            keys = self.matching_keys(flt)
            sel = _page_desc(keys, page, size)
            items = [self.portout_json(self.portouts[pid]) for _, pid in sel]
            return items, _meta(len(keys), page, size)

    def matching_keys(self, flt: PortoutFilter) -> list[tuple[float, str]]:
        """Sorted (created_ts, id) keys of the port-outs that match, oldest first."""
        keys: list[tuple[float, str]]
        exact = False
        if flt.phone_number is not None:
            ids = _multi_get(self._by_phone, normalize_number(flt.phone_number))
            keys = sorted(self.portouts[i].key for i in ids)
        elif flt.support_key is not None:
            pid = self._by_support_key.get(flt.support_key)
            keys = [self.portouts[pid].key] if pid else []
        elif flt.pon is not None:
            keys = sorted(self.portouts[i].key for i in _multi_get(self._by_pon, flt.pon))
        elif flt.statuses is not None:
            statuses = list(dict.fromkeys(flt.statuses))
            if len(statuses) == 1:
                keys = self._by_status[statuses[0]]
            else:
                keys = sorted(itertools.chain.from_iterable(self._by_status[s] for s in statuses))
            exact = True
        else:
            keys = self._order
            exact = True
        checks = self._checks(flt)
        if exact and len(checks) <= (1 if flt.statuses is not None else 0):
            return keys
        portouts = self.portouts
        return [k for k in keys if all(check(portouts[k[1]]) for check in checks)]

    def _checks(self, flt: PortoutFilter) -> list[Callable[[PortOut], bool]]:
        checks: list[Callable[[PortOut], bool]] = []
        if flt.statuses is not None:
            wanted = frozenset(flt.statuses)
            checks.append(lambda p: p.status in wanted)
        if flt.carrier_name is not None:
            carrier = flt.carrier_name.casefold()
            checks.append(lambda p: p.carrier_name.casefold() == carrier)
        if flt.spid is not None:
            spid = flt.spid
            checks.append(lambda p: p.spid == spid)
        if flt.pon is not None:
            pon = flt.pon
            checks.append(lambda p: p.pon == pon)
        if flt.support_key is not None:
            sk = flt.support_key
            checks.append(lambda p: p.support_key == sk)
        if flt.phone_number is not None:
            number = normalize_number(flt.phone_number)
            checks.append(lambda p: number in p.phone_numbers)
        if flt.country_codes is not None:
            countries = frozenset(c.upper() for c in flt.country_codes)
            checks.append(lambda p: p.country_code in countries)
        if flt.foc_date is not None:
            day = flt.foc_date
            checks.append(lambda p: iso(p.foc_ts)[:10] == day)  # type: ignore[index]
        if flt.inserted_gte is not None:
            gte = flt.inserted_gte
            checks.append(lambda p: p.created_ts >= gte)
        if flt.inserted_lte is not None:
            lte = flt.inserted_lte
            checks.append(lambda p: p.created_ts <= lte)
        if flt.created_gt is not None:
            gt = flt.created_gt
            checks.append(lambda p: p.created_ts > gt)
        if flt.created_lt is not None:
            lt = flt.created_lt
            checks.append(lambda p: p.created_ts < lt)
        if flt.ported_gte is not None:
            pg = flt.ported_gte
            checks.append(lambda p: p.ported_out_ts is not None and p.ported_out_ts >= pg)
        if flt.ported_lte is not None:
            pl = flt.ported_lte
            checks.append(lambda p: p.ported_out_ts is not None and p.ported_out_ts <= pl)
        if flt.customer_references is not None:
            refs = frozenset(flt.customer_references)
            checks.append(lambda p: p.customer_reference in refs)
        if flt.end_user_name is not None:
            name = flt.end_user_name.casefold()
            checks.append(lambda p: name in p.end_user_name.casefold())
        if flt.phone_numbers_any is not None:
            numbers = frozenset(normalize_number(n) for n in flt.phone_numbers_any)
            checks.append(lambda p: not numbers.isdisjoint(p.phone_numbers))
        checks.extend(flt.extra)
        return checks

    def rejection_codes(
        self, portout_id: str, codes: Iterable[int] | None = None
    ) -> list[dict[str, Any]]:
        with self.lock:
            po = self.get_portout(portout_id)
            wanted = None if codes is None else set(codes)
            return [
                {
                    "code": code,
                    "description": REJECTION_CATALOG[code][0],
                    "reason_required": REJECTION_CATALOG[code][1],
                }
                for code in po.rejection_codes
                if wanted is None or code in wanted
            ]

    # ------------------------------------------------------------------ port-outs: writes

    def create_portout(self, *, rng: Any = None, **overrides: Any) -> PortOut:
        """A new pending port-out (a gaining carrier filed a port); fields default to realistic
        random values, any PortOut field can be overridden (datetimes accepted for *_ts)."""
        from .seed import random_portout

        with self.lock:
            now = self.now()
            po = random_portout(self, rng, now=now, overrides=overrides)
            self._index_portout(po)
            self.record_event("portout.status_changed", po, at=po.created_ts, status=po.status)
            if po.status == "authorized":
                self._schedule(po.foc_ts, "port", po.id)
            elif po.status == "rejected-pending":
                self._schedule(now + self.reject_delay, "reject", po.id, po.version)
            return po

    def update_status(
        self,
        portout_id: str,
        status: str,
        *,
        body: Mapping[str, Any],
    ) -> PortOut:
        """PATCH /portouts/{id}/{status}: the account's authorize/reject decision."""
        with self.lock:
            self.advance()
            po = self.get_portout(portout_id)
            if status not in API_STATUSES:
                raise SandboxError(
                    "10016",
                    f"'{status}' is not a valid status; use one of: authorized, rejected-pending.",
                    parameter="status",
                )
            if "reason" not in body or body["reason"] is None:
                raise SandboxError("10004", "The 'reason' field is required.", pointer="/reason")
            reason = body["reason"]
            if not isinstance(reason, str):
                raise SandboxError("10016", "'reason' must be a string.", pointer="/reason")
            host_messaging = body.get("host_messaging", False)
            if not isinstance(host_messaging, bool):
                raise SandboxError(
                    "10016", "'host_messaging' must be a boolean.", pointer="/host_messaging"
                )
            code = body.get("rejection_code")
            if code is not None and (isinstance(code, bool) or not isinstance(code, int)):
                raise SandboxError(
                    "10016", "'rejection_code' must be an integer.", pointer="/rejection_code"
                )
            if po.status != "pending":
                raise SandboxError(
                    "10015",
                    f"Port-out is not pending (it is {po.status}); only pending port-outs "
                    "can be authorized or rejected.",
                    title="Port-out is not pending",
                )
            if status == "authorized":
                if code is not None:
                    raise SandboxError(
                        "10016",
                        "'rejection_code' is only accepted when rejecting.",
                        pointer="/rejection_code",
                    )
                po.reason = reason.strip() or None
                po.rejection_code = None
            else:
                if code is not None and code not in po.rejection_codes:
                    eligible = ", ".join(str(c) for c in po.rejection_codes)
                    raise SandboxError(
                        "10016",
                        f"Rejection code {code} is not eligible for this port-out "
                        f"(eligible: {eligible}).",
                        pointer="/rejection_code",
                    )
                needs_reason = code is None or REJECTION_CATALOG[code][1]
                if needs_reason and not reason.strip():
                    raise SandboxError(
                        "10004",
                        "A reason is required for this rejection."
                        if code is None
                        else f"Rejection code {code} requires a reason.",
                        pointer="/reason",
                    )
                po.reason = reason.strip() or REJECTION_CATALOG[code][0]  # type: ignore[index]
                po.rejection_code = code
            po.host_messaging = host_messaging
            self._transition(po, status)
            return po

    def change_status(
        self,
        portout_id: str,
        status: str,
        *,
        reason: str | None = None,
        rejection_code: int | None = None,
    ) -> PortOut:
        """A transition made by Telnyx, Porting Ops or the gaining carrier (e.g. cancel)."""
        with self.lock:
            po = self.get_portout(portout_id)
            if status not in TRANSITIONS.get(po.status, ()):
                raise SandboxError(
                    "10015",
                    f"Port-out cannot move from {po.status} to {status}.",
                    title="Invalid transition",
                )
            if reason is not None:
                po.reason = reason
            if rejection_code is not None:
                po.rejection_code = rejection_code
            self._transition(po, status)
            return po

    def _transition(self, po: PortOut, status: str, at: float | None = None) -> None:
        now = self.now() if at is None else at
        self._move_status(po, status)
        po.updated_ts = now
        if status == "ported":
            po.ported_out_ts = now
        if status == "pending":
            po.reason = None
            po.rejection_code = None
        po.json_cache = None
        rejection_reason = po.reason if status in ("rejected-pending", "rejected") else None
        self.record_event(
            "portout.status_changed", po, at=now, status=status, reason=rejection_reason
        )
        if status == "rejected-pending":
            self._schedule(now + self.reject_delay, "reject", po.id, po.version)
        elif status == "authorized":
            self._schedule(po.foc_ts, "port", po.id)

    def change_foc_date(self, portout_id: str, foc_date: datetime | float | str) -> PortOut:
        """The gaining carrier moved the FOC date (portout.foc_date_changed)."""
        with self.lock:
            po = self.get_portout(portout_id)
            if po.status not in ("pending", "authorized", "rejected-pending"):
                raise SandboxError(
                    "10015", f"The FOC date of a {po.status} port-out cannot change."
                )
            po.foc_ts = to_ts(foc_date, "foc_date")
            po.updated_ts = self.now()
            po.json_cache = None
            self.record_event("portout.foc_date_changed", po, foc_ts=po.foc_ts)
            if po.status == "authorized":
                self._schedule(po.foc_ts, "port", po.id)
            return po

    # ------------------------------------------------------------------ comments & documents

    def list_comments(self, portout_id: str) -> list[Comment]:
        with self.lock:
            self.get_portout(portout_id)
            return list(self.comments.get(portout_id, ()))

    def add_comment(
        self,
        portout_id: str,
        body: str,
        *,
        user_id: str | None = None,
        at: float | None = None,
        event: bool = True,
    ) -> Comment:
        """Add a comment; user_id None means Telnyx staff wrote it. `event=False` adds it
        without a `portout.new_comment` event (one Telnyx never recorded or sent)."""
        with self.lock:
            po = self.get_portout(portout_id)
            if not isinstance(body, str) or not body.strip():
                raise SandboxError("10004", "The 'body' field is required.", pointer="/body")
            comment = Comment(
                id=self.new_id(),
                portout_id=po.id,
                body=body,
                user_id=user_id,
                created_ts=self.now() if at is None else at,
            )
            self.comments.setdefault(po.id, []).append(comment)
            if not event:
                return comment
            self.record_event(
                "portout.new_comment",
                po,
                at=comment.created_ts,
                comment_id=comment.id,
                comment_body=body,
                comment_user_id=user_id,
            )
            return comment

    def list_supporting_documents(self, portout_id: str) -> list[SupportingDocument]:
        with self.lock:
            self.get_portout(portout_id)
            return list(self.supporting_documents.get(portout_id, ()))

    def add_supporting_documents(self, portout_id: str, documents: Any) -> list[SupportingDocument]:
        with self.lock:
            po = self.get_portout(portout_id)
            if not isinstance(documents, list) or not documents:
                raise SandboxError(
                    "10004", "'documents' must be a list of 1 to 10 items.", pointer="/documents"
                )
            if len(documents) > 10:
                raise SandboxError(
                    "10016", "At most 10 documents can be attached at once.", pointer="/documents"
                )
            for i, item in enumerate(documents):
                if not isinstance(item, dict):
                    raise SandboxError(
                        "10016", "Each document must be an object.", pointer=f"/documents/{i}"
                    )
                if item.get("type") not in DOCUMENT_TYPES:
                    raise SandboxError(
                        "10016",
                        "'type' must be one of: loa, invoice.",
                        pointer=f"/documents/{i}/type",
                    )
                doc_id = item.get("document_id")
                if not isinstance(doc_id, str) or doc_id not in self.documents:
                    raise SandboxError(
                        "10016",
                        f"Document '{doc_id}' does not exist.",
                        pointer=f"/documents/{i}/document_id",
                    )
            now = self.now()
            created = [
                SupportingDocument(
                    id=self.new_id(),
                    portout_id=po.id,
                    type=item["type"],
                    document_id=item["document_id"],
                    created_ts=now,
                )
                for item in documents
            ]
            self.supporting_documents.setdefault(po.id, []).extend(created)
            for item in documents:
                self.documents[item["document_id"]].status = "verified"
            return created

    def get_document(self, document_id: str) -> Document:
        with self.lock:
            doc = self.documents.get(document_id)
            if doc is None:
                raise SandboxError("10005", f"Document '{document_id}' was not found.")
            return doc

    def create_document(
        self,
        *,
        filename: str,
        content: bytes,
        content_type: str,
        customer_reference: str | None = None,
        document_id: str | None = None,
        at: float | None = None,
    ) -> Document:
        if not content:
            raise SandboxError("10004", "The uploaded file is empty.", pointer="/file")
        if len(content) > MAX_DOCUMENT_BYTES:
            raise SandboxError("10016", "Documents may be at most 20 MB.", pointer="/file")
        name = re.sub(r"\s+", "", filename or "")[:512] or "document"
        ext = _EXTENSIONS.get(content_type.split(";")[0].strip().lower())
        if ext and "." not in name:
            name += ext
        doc = Document(
            id=document_id or self.new_id(),
            filename=name,
            content_type=content_type.split(";")[0].strip() or "application/octet-stream",
            created_ts=self.now() if at is None else at,
            customer_reference=customer_reference,
            _content=content,
        )
        with self.lock:
            self.documents[doc.id] = doc
        return doc

    def create_document_from_json(self, body: Mapping[str, Any]) -> Document:
        """JSON upload: base64 `file` + `filename` (the `url` form needs the internet)."""
        if body.get("file") is None:
            if body.get("url"):
                raise SandboxError(
                    "10016",
                    "The sandbox cannot fetch documents by URL; send base64 'file' instead.",
                    pointer="/url",
                )
            raise SandboxError("10004", "The 'file' field is required.", pointer="/file")
        raw = body["file"]
        if not isinstance(raw, str):
            raise SandboxError("10016", "'file' must be a base64 string.", pointer="/file")
        try:
            content = base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError):
            raise SandboxError("10016", "'file' is not valid base64.", pointer="/file") from None
        filename = body.get("filename") or "document"
        if not isinstance(filename, str):
            raise SandboxError("10016", "'filename' must be a string.", pointer="/filename")
        reference = body.get("customer_reference")
        return self.create_document(
            filename=filename,
            content=content,
            content_type=_sniff(content, filename),
            customer_reference=reference if isinstance(reference, str) else None,
        )

    # ------------------------------------------------------------------ events API

    def list_events(
        self,
        *,
        event_type: str | None,
        portout_id: str | None,
        gte: float | None,
        lte: float | None,
        page: int,
        size: int,
    ) -> tuple[list[bytes], dict[str, int]]:
        with self.lock:
            self.advance()
            if portout_id is not None:
                keys = [self.events[i].key for i in self._events_by_portout.get(portout_id, ())]
                if event_type is not None:
                    keys = [k for k in keys if self.events[k[1]].event_type == event_type]
            elif event_type is not None:
                keys = self._events_by_type[event_type]
            else:
                keys = self._event_order
            if gte is not None or lte is not None:
                lo = 0 if gte is None else bisect.bisect_left(keys, (gte, ""))
                hi = len(keys) if lte is None else bisect.bisect_right(keys, (lte, "\uffff"))
                keys = keys[lo:hi]
            sel = _page_desc(keys, page, size)
            return [self.event_json(self.events[eid]) for _, eid in sel], _meta(
                len(keys), page, size
            )

    def get_event(self, event_id: str) -> Event:
        with self.lock:
            ev = self.events.get(event_id)
            if ev is None:
                raise SandboxError("10005", f"Event '{event_id}' was not found.")
            return ev

    def republish(self, event_id: str) -> None:
        """Deliver an existing event again; no new event is created."""
        with self.lock:
            ev = self.get_event(event_id)
            self._emit(ev)

    # ------------------------------------------------------------------ reports

    def create_report(self, body: Mapping[str, Any]) -> Report:
        report_type = body.get("report_type")
        if report_type is None:
            raise SandboxError(
                "10004", "The 'report_type' field is required.", pointer="/report_type"
            )
        if report_type not in REPORT_TYPES:
            raise SandboxError(
                "10016", "'report_type' must be export_portouts_csv.", pointer="/report_type"
            )
        params = body.get("params")
        if not isinstance(params, dict):
            raise SandboxError("10004", "The 'params' object is required.", pointer="/params")
        filters = params.get("filters")
        if not isinstance(filters, dict):
            raise SandboxError(
                "10004", "The 'params.filters' object is required.", pointer="/params/filters"
            )
        clean = _validate_report_filters(filters)
        with self.lock:
            now = self.now()
            report = Report(
                id=self.new_id(), report_type=report_type, filters=clean, created_ts=now
            )
            self.reports[report.id] = report
            self._report_order.append((now, report.id))
            self._schedule(now + self.report_delay, "report", report.id)
            return report

    def get_report(self, report_id: str) -> Report:
        with self.lock:
            self.advance()
            report = self.reports.get(report_id)
            if report is None:
                raise SandboxError("10005", f"Report '{report_id}' was not found.")
            return report

    def list_reports(
        self, *, report_type: str | None, status: str | None, page: int, size: int
    ) -> tuple[list[dict[str, Any]], dict[str, int]]:
        with self.lock:
            self.advance()
            keys = [
                k
                for k in self._report_order
                if (report_type is None or self.reports[k[1]].report_type == report_type)
                and (status is None or self.reports[k[1]].status == status)
            ]
            sel = _page_desc(keys, page, size)
            return [self.reports[rid].to_dict() for _, rid in sel], _meta(len(keys), page, size)

    def report_filter(self, filters: Mapping[str, Any]) -> PortoutFilter:
        return PortoutFilter(
            statuses=filters.get("status__in"),
            customer_references=filters.get("customer_reference__in"),
            end_user_name=filters.get("end_user_name"),
            phone_numbers_any=filters.get("phone_numbers__overlaps"),
            created_gt=parse_datetime(filters["created_at__gt"])
            if "created_at__gt" in filters
            else None,
            created_lt=parse_datetime(filters["created_at__lt"])
            if "created_at__lt" in filters
            else None,
        )

    def render_csv(self, filters: Mapping[str, Any]) -> bytes:
        with self.lock:
            keys = self.matching_keys(self.report_filter(filters))
            out = io.StringIO()
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow(CSV_COLUMNS)
            for _, pid in reversed(keys):
                po = self.portouts[pid]
                writer.writerow(
                    [
                        po.id,
                        po.support_key,
                        po.status,
                        " ".join(po.phone_numbers),
                        po.carrier_name,
                        po.spid,
                        po.pon,
                        po.end_user_name,
                        po.authorized_name,
                        po.service_address,
                        po.city,
                        po.state,
                        po.zip,
                        po.customer_reference,
                        iso(po.foc_ts),
                        iso(po.requested_foc_ts),
                        "" if po.rejection_code is None else po.rejection_code,
                        po.reason or "",
                        iso(po.created_ts),
                        iso(po.updated_ts),
                    ]
                )
            return out.getvalue().encode()

    # ------------------------------------------------------------------ time

    def advance(self, now: float | datetime | None = None) -> int:
        """Apply every scheduled change due by `now`: rejected-pending -> rejected after the
        review delay, authorized -> ported once the FOC date passes, pending reports complete.
        Returns how many changes were applied."""
        with self.lock:
            when = self.now() if now is None else to_ts(now, "now")
            applied = 0
            while self._due and self._due[0][0] <= when:
                due, _, kind, obj_id, version = heapq.heappop(self._due)
                if kind == "report":
                    report = self.reports.get(obj_id)
                    if report is not None and report.status == "pending":
                        self._complete_report(report, max(due, report.created_ts))
                        applied += 1
                    continue
                po = self.portouts.get(obj_id)
                if po is None:
                    continue
                if kind == "reject" and po.status == "rejected-pending" and po.version == version:
                    self._transition(po, "rejected", at=max(due, po.updated_ts))
                    applied += 1
                elif kind == "port" and po.status == "authorized" and po.foc_ts <= when:
                    self._transition(po, "ported", at=max(po.foc_ts, po.updated_ts))
                    applied += 1
            return applied

    def _complete_report(self, report: Report, at: float) -> None:
        content = self.render_csv(report.filters)
        stamp = datetime.fromtimestamp(at, UTC).strftime("%Y%m%dT%H%M%S")
        doc = self.create_document(
            filename=f"portouts-export-{stamp}.csv",
            content=content,
            content_type="text/csv",
            at=at,
        )
        report.document_id = doc.id
        report.status = "completed"
        report.updated_ts = at


_EXTENSIONS = {
    "application/pdf": ".pdf",
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "text/csv": ".csv",
    "text/plain": ".txt",
}


def _sniff(content: bytes, filename: str) -> str:
    if content.startswith(b"%PDF"):
        return "application/pdf"
    if content.startswith(b"\x89PNG"):
        return "image/png"
    if content.startswith(b"\xff\xd8"):
        return "image/jpeg"
    lower = filename.lower()
    for content_type, ext in _EXTENSIONS.items():
        if lower.endswith(ext):
            return content_type
    return "application/octet-stream"


def _validate_report_filters(filters: Mapping[str, Any]) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    for raw_key, value in filters.items():
        key = raw_key[:-2] if raw_key.endswith("[]") else raw_key
        pointer = f"/params/filters/{raw_key}"
        if key not in REPORT_FILTER_KEYS:
            raise SandboxError("10016", f"Unknown report filter '{raw_key}'.", pointer=pointer)
        if key.endswith("__in") or key.endswith("__overlaps"):
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise SandboxError("10016", f"'{key}' must be a list of strings.", pointer=pointer)
            if key == "status__in":
                for status in value:
                    if status not in STATUSES:
                        raise SandboxError(
                            "10016", f"'{status}' is not a port-out status.", pointer=pointer
                        )
        elif key.startswith("created_at"):
            if not isinstance(value, str) or parse_datetime(value) is None:
                raise SandboxError(
                    "10016", f"'{key}' must be an ISO 8601 date-time.", pointer=pointer
                )
        elif not isinstance(value, str):
            raise SandboxError("10016", f"'{key}' must be a string.", pointer=pointer)
        clean[key] = value
    return clean


def _multi_add(index: dict[str, str | list[str]], key: str, value: str) -> None:
    current = index[key]
    if isinstance(current, list):
        if value not in current:
            current.append(value)
    elif current != value:
        index[key] = [current, value]


def _multi_get(index: dict[str, str | list[str]], key: str) -> list[str]:
    current = index.get(key)
    if current is None:
        return []
    return current if isinstance(current, list) else [current]


def _page_desc(keys: list[tuple[float, str]], page: int, size: int) -> list[tuple[float, str]]:
    """Page `page` of `keys` read newest first (keys are sorted oldest first)."""
    hi = len(keys) - (page - 1) * size
    if hi <= 0:
        return []
    return keys[max(0, hi - size) : hi][::-1]


def _meta(total: int, page: int, size: int) -> dict[str, int]:
    return {
        "page_number": page,
        "page_size": size,
        "total_pages": math.ceil(total / size),
        "total_results": total,
    }
