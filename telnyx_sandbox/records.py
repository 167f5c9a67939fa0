"""The sandbox's records and what writing one records: `StateRecords`, under `SandboxState`.

Everything lives behind one re-entrant lock so the threaded HTTP server, the traffic
generator, the scheduler and tests can all touch it. This layer holds the records (in
`indexes.Records`, with the number inventory of `numbers.py`), their ids and JSON views,
the events and their listeners (the webhook dispatcher), and the writes that need no
rule of the workflow: comments, supporting documents and uploaded documents (checked by
`documents.py`). Each record caches its own JSON bytes, so a page of 250 out of 100,000
costs a slice plus a join, not a scan. The workflow and the clock are `state.py`'s.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from . import workflow
from .documents import check_attachments, json_upload, new_document
from .entities import (
    Comment,
    Document,
    Event,
    PortOut,
    PortoutHistory,
    Report,
    SupportingDocument,
    dumps,
)
from .errors import SandboxError
from .filters import PortoutFilter, portout_keys
from .indexes import Key, Records
from .numbers import Customer, Inventory

__all__ = ["Listener", "StateRecords"]

Listener = Callable[[Event], None]


class StateRecords:
    """The sandbox's data, its events and the writes that need no workflow rule."""

    # ------------------------------------------------------------------ basics

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

    def customers(self) -> list[Customer]:
        """The customers who own numbers, in reference order (the customers CSV)."""
        with self.lock:
            return sorted(self._inventory.customers.values(), key=lambda c: c.reference)

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

    # ------------------------------------------------------------------ port-outs

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

    def matching_keys(self, flt: PortoutFilter) -> list[Key]:
        """Sorted (created_ts, id) keys of the port-outs that match, oldest first."""
        return portout_keys(self._records, flt)

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
