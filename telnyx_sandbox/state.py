"""The sandbox's Telnyx port-out world behind one facade, `SandboxState`.

Everything lives behind one re-entrant lock so the threaded HTTP server, the traffic
generator, the scheduler and tests can all touch it. The state composes the modules that
each keep one concern: `indexes` (the records and their sorted indexes), `filters` (list
queries and paging), `workflow` (the state machine and its scheduler), `documents` and
`reports` (what those requests must hold and what they yield), and `seed` for the random
fields of a new port-out. Each record caches its own JSON bytes, so a page of 250 out of
100,000 costs a slice plus a join, not a scan.

Public mutators (`create_portout`, `update_status`, `change_status`, `change_foc_date`,
`add_comment`, ...) each record an event and hand it to the listeners (the webhook
dispatcher), exactly like a change made by Telnyx, the carrier or the API.

The module is longer than the others because it is the one API the server, the traffic
generator, seeding and tests call (some forty methods and record views); each method
takes the lock, delegates to the modules above and records the event, nothing more.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from . import reports, workflow
from .customers import dress_new_portout
from .documents import check_attachments, json_upload, new_document
from .entities import (
    ACCOUNT_USER_ID,
    EVENT_TYPES,
    REJECTION_CATALOG,
    STATUSES,
    Comment,
    Document,
    Event,
    PortOut,
    PortoutHistory,
    Report,
    SupportingDocument,
    dumps,
    iso,
    to_ts,
)
from .errors import SandboxError
from .filters import PortoutFilter, event_keys, page_desc, page_meta, portout_keys
from .indexes import Key, Records
from .numbers import Customer, Inventory, NumberFilter, PhoneNumber
from .scenarios import BOUNCE_COMMENT
from .seed import FIELD_ALIASES as _FIELD_ALIASES
from .seed import random_portout

# The names tests and callers have always imported from here.
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

Listener = Callable[[Event], None]


class SandboxState:
    """All sandbox data plus the rules Telnyx applies to it."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.time,
        reject_delay: float = 30.0,
        report_delay: float = 3.0,
        authorize_after: float = 24 * 3600.0,
        public_root: str = "http://127.0.0.1",
    ) -> None:
        self.lock = threading.RLock()
        self.clock = clock
        self.reject_delay = reject_delay
        #: seconds after which Telnyx authorizes a pending port-out nobody answered
        self.authorize_after = authorize_after
        self.report_delay = report_delay
        self._public_root = public_root
        self.listeners: list[Listener] = []
        self.clear()

    # ------------------------------------------------------------------ basics

    def clear(self) -> None:
        with self.lock:
            self._records = Records()
            self._inventory = Inventory()
            self._scheduler = workflow.Scheduler()
            self._support_counter = 0

    def load(self, histories: Iterable[PortoutHistory], inventory: Inventory | None = None) -> None:
        """Add seeded port-outs with their history (and the numbers they name) in bulk; no
        events are emitted."""
        with self.lock:
            if inventory is not None:
                self._inventory = inventory
            records = self._records
            due: list[tuple[PortOut, float]] = []
            for history in histories:
                records.add_history(history)
                if history.due is not None:
                    due.append((history.portout, history.due))
            records.finish_bulk()
            self._scheduler.load(due)

    @property
    def public_root(self) -> str:
        return self._public_root

    @public_root.setter
    def public_root(self, value: str) -> None:
        with self.lock:
            if value != self._public_root:
                self._public_root = value.rstrip("/")
                for po in self._records.portouts.values():
                    po.json_cache = None

    def now(self) -> float:
        return self.clock()

    def next_support_key(self) -> str:
        """Unique `PO_nnnnnn` keys: a stride permutation of 100000..999999."""
        with self.lock:
            n = self._support_counter
            self._support_counter += 1
            return f"PO_{(n * 7919 + 264725) % 900000 + 100000}"

    def new_id(self) -> str:
        return str(uuid.uuid4())

    def _emit(self, event: Event) -> None:
        for listener in list(self.listeners):
            listener(event)

    # ------------------------------------------------------------------ records, read directly
    # by the server, the traffic generator and tests (clear() replaces them all)

    @property
    def portouts(self) -> dict[str, PortOut]:
        return self._records.portouts

    @property
    def events(self) -> dict[str, Event]:
        return self._records.events

    @property
    def comments(self) -> dict[str, list[Comment]]:
        return self._records.comments

    @property
    def supporting_documents(self) -> dict[str, list[SupportingDocument]]:
        return self._records.supporting_documents

    @property
    def documents(self) -> dict[str, Document]:
        return self._records.documents

    @property
    def reports(self) -> dict[str, Report]:
        return self._records.reports

    @property
    def inventory(self) -> Inventory:
        """The account's numbers and customers (numbers.py)."""
        return self._inventory

    @property
    def _by_status(self) -> dict[str, list[Key]]:
        return self._records.by_status

    @property
    def _event_order(self) -> list[Key]:
        return self._records.event_order

    @property
    def _events_by_portout(self) -> dict[str, list[str]]:
        return self._records.events_by_portout

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
        self._records.add_event(ev, bulk=bulk)
        if emit:
            self._emit(ev)
        return ev

    def event_dict(self, ev: Event) -> dict[str, Any]:
        """The Events API object (PortoutEvent)."""
        return ev.to_dict(self._records.portouts[ev.portout_id])

    def event_json(self, ev: Event) -> bytes:
        if ev.json_cache is None:
            ev.json_cache = dumps(self.event_dict(ev))
        return ev.json_cache

    def webhook_data(self, ev: Event) -> dict[str, Any]:
        """The `data` part of a webhook delivery (record_type "event", occurred_at)."""
        with self.lock:
            return ev.webhook_data(self._records.portouts[ev.portout_id])

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
            keys = event_keys(
                self._records, event_type=event_type, portout_id=portout_id, gte=gte, lte=lte
            )
            events = self._records.events
            items = [self.event_json(events[eid]) for _, eid in page_desc(keys, page, size)]
            return items, page_meta(len(keys), page, size)

    def get_event(self, event_id: str) -> Event:
        with self.lock:
            ev = self._records.events.get(event_id)
            if ev is None:
                raise SandboxError("10005", f"Event '{event_id}' was not found.")
            return ev

    def republish(self, event_id: str) -> None:
        """Deliver an existing event again; no new event is created."""
        with self.lock:
            ev = self.get_event(event_id)
            self._emit(ev)

    # ------------------------------------------------------------------ port-outs: reads

    def portout_json(self, po: PortOut) -> bytes:
        if po.json_cache is None:
            po.json_cache = dumps(po.to_dict(self._public_root))
        return po.json_cache

    def get_portout(self, portout_id: str) -> PortOut:
        with self.lock:
            po = self._records.portouts.get(portout_id)
            if po is None:
                raise SandboxError("10005", f"Port-out '{portout_id}' was not found.")
            return po

    def list_portouts(
        self, flt: PortoutFilter, page: int, size: int
    ) -> tuple[list[bytes], dict[str, int]]:
        with self.lock:
            self.advance()
            keys = self.matching_keys(flt)
            portouts = self._records.portouts
            items = [self.portout_json(portouts[pid]) for _, pid in page_desc(keys, page, size)]
            return items, page_meta(len(keys), page, size)

    def matching_keys(self, flt: PortoutFilter) -> list[Key]:
        """Sorted (created_ts, id) keys of the port-outs that match, oldest first."""
        return portout_keys(self._records, flt)

    def rejection_codes(
        self, portout_id: str, codes: Iterable[int] | None = None
    ) -> list[dict[str, Any]]:
        with self.lock:
            return workflow.rejection_options(self.get_portout(portout_id), codes)

    # ------------------------------------------------------------------ port-outs: writes

    def create_portout(self, *, rng: Any = None, **overrides: Any) -> PortOut:
        """A new pending port-out (a gaining carrier filed a port); fields default to realistic
        random values, any PortOut field can be overridden (datetimes accepted for *_ts)."""
        with self.lock:
            now = self.now()
            po = random_portout(
                rng, now=now, support_key=self.next_support_key(), overrides=overrides
            )
            keep = {_FIELD_ALIASES.get(name, name) for name in overrides}
            dress_new_portout(self._inventory, po, rng, keep)
            if po.authorize_ts is None:
                po.authorize_ts = po.created_ts + self.authorize_after
            self._inventory.adopt(po, now)
            self._records.add_portout(po)
            self.record_event("portout.status_changed", po, at=po.created_ts, status=po.status)
            if po.status == "pending" and self._inventory.pin_refused(po):
                # Telnyx refuses a wrong PIN on PIN-protected numbers by itself, at once
                po.rejection_code, po.reason = 1002, REJECTION_CATALOG[1002][0]
                self._transition(po, "rejected", po.created_ts + 0.001)
                return po
            self._follow_numbers(po, po.created_ts)
            self._schedule_follow_up(po, now)
            return po

    def bounce_rejection(self, portout_id: str, *, why: str | None = None) -> PortOut:
        """Porting Ops found a rejection's reason invalid: back to pending (a new window),
        with a Telnyx staff comment saying so."""
        with self.lock:
            po = self.get_portout(portout_id)
            if po.status != "rejected-pending":
                raise SandboxError("10015", f"Port-out is {po.status}, not rejected-pending.")
            self._bounce(po, self.now(), why)
            return po

    def _bounce(self, po: PortOut, at: float, why: str | None) -> None:
        self._transition(po, "pending", at)
        body = BOUNCE_COMMENT if why is None else f"{BOUNCE_COMMENT} ({why})"
        self.add_comment(po.id, body, at=at + 0.001)

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
            workflow.decide(po, status, body)
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
            workflow.check_transition(po, status)
            if reason is not None:
                po.reason = reason
            if rejection_code is not None:
                po.rejection_code = rejection_code
            self._transition(po, status)
            return po

    def _transition(self, po: PortOut, status: str, at: float | None = None) -> None:
        now = self.now() if at is None else at
        self._records.move_status(po, status)
        reason = workflow.enter_status(po, status, now)
        if status == "pending":
            po.authorize_ts = now + self.authorize_after
        self.record_event("portout.status_changed", po, at=now, status=status, reason=reason)
        self._follow_numbers(po, now)
        self._schedule_follow_up(po, now)

    def _follow_numbers(self, po: PortOut, at: float) -> None:
        """The numbers' status follows the port-outs that name them."""
        records = self._records
        holders = [
            records.portouts[pid] for n in po.phone_numbers for pid in records.ids_by_phone(n)
        ]
        self._inventory.follow(po, at, holders)

    def _schedule_follow_up(self, po: PortOut, now: float) -> None:
        when = workflow.follow_up(po, now, self.reject_delay)
        if when is not None:
            self._scheduler.add_portout(po, when)

    def change_foc_date(self, portout_id: str, foc_date: datetime | float | str) -> PortOut:
        """The gaining carrier moved the FOC date (portout.foc_date_changed)."""
        with self.lock:
            po = self.get_portout(portout_id)
            workflow.check_foc_change(po)
            po.foc_ts = to_ts(foc_date, "foc_date")
            po.updated_ts = self.now()
            po.json_cache = None
            self.record_event("portout.foc_date_changed", po, foc_ts=po.foc_ts)
            if po.status == "authorized":
                self._scheduler.add_portout(po, po.foc_ts)
            return po

    # ------------------------------------------------------------------ comments & documents

    def list_comments(self, portout_id: str) -> list[Comment]:
        with self.lock:
            self.get_portout(portout_id)
            return list(self._records.comments.get(portout_id, ()))

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
            self._records.comments.setdefault(po.id, []).append(comment)
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
            return list(self._records.supporting_documents.get(portout_id, ()))

    def add_supporting_documents(self, portout_id: str, documents: Any) -> list[SupportingDocument]:
        with self.lock:
            po = self.get_portout(portout_id)
            stored = self._records.documents
            attachments = check_attachments(documents, stored)
            now = self.now()
            created = [
                SupportingDocument(
                    id=self.new_id(),
                    portout_id=po.id,
                    type=item["type"],
                    document_id=item["document_id"],
                    created_ts=now,
                )
                for item in attachments
            ]
            self._records.supporting_documents.setdefault(po.id, []).extend(created)
            for item in attachments:
                stored[item["document_id"]].status = "verified"
            return created

    def get_document(self, document_id: str) -> Document:
        with self.lock:
            doc = self._records.documents.get(document_id)
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
        doc = new_document(
            document_id=document_id or self.new_id(),
            filename=filename,
            content=content,
            content_type=content_type,
            customer_reference=customer_reference,
            created_ts=self.now() if at is None else at,
        )
        with self.lock:
            self._records.documents[doc.id] = doc
        return doc

    def create_document_from_json(self, body: Mapping[str, Any]) -> Document:
        """JSON upload: base64 `file` + `filename` (the `url` form needs the internet)."""
        filename, content, content_type, reference = json_upload(body)
        return self.create_document(
            filename=filename,
            content=content,
            content_type=content_type,
            customer_reference=reference,
        )

    # ------------------------------------------------------------------ phone numbers

    def list_phone_numbers(
        self, flt: NumberFilter, page: int, size: int
    ) -> tuple[list[bytes], dict[str, int]]:
        with self.lock:
            self.advance()
            return self._inventory.page(flt, page, size)

    def get_phone_number(self, number_id: str) -> PhoneNumber:
        with self.lock:
            self.advance()
            return self._inventory.get(number_id)

    def customers(self) -> list[Customer]:
        """The customers who own numbers, in reference order (the customers CSV)."""
        with self.lock:
            return sorted(self._inventory.customers.values(), key=lambda c: c.reference)

    # ------------------------------------------------------------------ reports

    def create_report(self, body: Mapping[str, Any]) -> Report:
        report_type, report_filters = reports.report_request(body)
        with self.lock:
            now = self.now()
            report = Report(
                id=self.new_id(), report_type=report_type, filters=report_filters, created_ts=now
            )
            self._records.add_report(report)
            self._scheduler.add(now + self.report_delay, "report", report.id)
            return report

    def get_report(self, report_id: str) -> Report:
        with self.lock:
            self.advance()
            report = self._records.reports.get(report_id)
            if report is None:
                raise SandboxError("10005", f"Report '{report_id}' was not found.")
            return report

    def list_reports(
        self, *, report_type: str | None, status: str | None, page: int, size: int
    ) -> tuple[list[dict[str, Any]], dict[str, int]]:
        with self.lock:
            self.advance()
            stored = self._records.reports
            keys = reports.matching_report_keys(
                stored, self._records.report_order, report_type=report_type, status=status
            )
            items = [stored[rid].to_dict() for _, rid in page_desc(keys, page, size)]
            return items, page_meta(len(keys), page, size)

    def render_csv(self, filters: Mapping[str, Any]) -> bytes:
        """The CSV of the port-outs a report's filters select, newest first."""
        with self.lock:
            keys = self.matching_keys(reports.report_filter(filters))
            portouts = self._records.portouts
            return reports.render_csv(portouts[pid] for _, pid in reversed(keys))

    # ------------------------------------------------------------------ time

    def advance(self, now: float | datetime | None = None) -> int:
        """Apply every scheduled change due by `now`: rejected-pending -> rejected after the
        review delay, authorized -> ported once the FOC date passes, pending reports complete.
        Returns how many changes were applied."""
        with self.lock:
            when = self.now() if now is None else to_ts(now, "now")
            return sum(
                self._apply_due(due, kind, obj_id, version, when)
                for due, kind, obj_id, version in self._scheduler.pop_due(when)
            )

    def _apply_due(self, due: float, kind: str, obj_id: str, version: int, now: float) -> bool:
        """Make one fallen-due change, unless what it was scheduled for has moved on."""
        if kind == "report":
            report = self._records.reports.get(obj_id)
            if report is None or report.status != "pending":
                return False
            self._complete_report(report, max(due, report.created_ts))
            return True
        po = self._records.portouts.get(obj_id)
        if po is None:
            return False
        change = workflow.due_change(po, kind, version, due, now)
        if change is None:
            return False
        if change[0] == "rejected":
            why = workflow.rejection_invalid(po, self._inventory.pin_matched(po))
            if why is not None:
                self._bounce(po, change[1], why)
                return True
        self._transition(po, *change)
        return True

    def _complete_report(self, report: Report, at: float) -> None:
        doc = self.create_document(
            filename=reports.export_filename(at),
            content=self.render_csv(report.filters),
            content_type="text/csv",
            at=at,
        )
        report.document_id = doc.id
        report.status = "completed"
        report.updated_ts = at
