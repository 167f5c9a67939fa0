"""The sandbox's Telnyx port-out world behind one facade, `SandboxState`.

`SandboxState` adds the workflow and the clock to the records (`records.StateRecords`):
a new port-out, the account's decision, a transition by Telnyx, Porting Ops or the
gaining carrier, a moved FOC date, and the changes that fall due (`advance`), each by the
rules of `workflow.py`, recorded as an event and handed to the listeners, exactly like a
change made by Telnyx, the carrier or the API. Reads that a client makes through the API
first apply what has fallen due. Reports are started here and complete on the clock
(`reports.py` says what they hold); seeding only hands the state records
(`seed.seed_state` → `load`), and the random fields of a new port-out come from
`newports.py`, so neither imports the other.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from . import reports, workflow
from .customers import dress_new_portout
from .entities import (
    ACCOUNT_USER_ID,
    EVENT_TYPES,
    REJECTION_CATALOG,
    STATUSES,
    Comment,
    Document,
    Event,
    PortOut,
    Report,
    SupportingDocument,
    iso,
    to_ts,
)
from .errors import SandboxError
from .filters import PortoutFilter, event_keys, page_desc, page_meta
from .newports import FIELD_ALIASES, random_portout
from .numbers import NumberFilter, PhoneNumber
from .records import StateRecords
from .scenarios import BOUNCE_COMMENT

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


class SandboxState(StateRecords):
    """All sandbox data plus the rules Telnyx applies to it."""

    # ------------------------------------------------------------------ reads (after the clock)

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

    def list_portouts(
        self, flt: PortoutFilter, page: int, size: int
    ) -> tuple[list[bytes], dict[str, int]]:
        with self.lock:
            self.advance()
            keys = self.matching_keys(flt)
            portouts = self._records.portouts
            items = [self.portout_json(portouts[pid]) for _, pid in page_desc(keys, page, size)]
            return items, page_meta(len(keys), page, size)

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
            keep = {FIELD_ALIASES.get(name, name) for name in overrides}
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
