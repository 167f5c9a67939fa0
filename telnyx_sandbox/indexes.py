"""Every record of the sandbox, and the indexes that let lists skip a scan.

Port-outs and events are kept in sorted `(created_ts, id)` keys, overall and per status
or event type, so a page of 250 out of 100,000 is a slice. A bulk load appends unsorted
and sorts once at the end (`finish_bulk`); single changes insert in place. Look-ups by
phone number, PON and support key are dicts; a number or PON shared by several port-outs
(rare) maps to a list, so 100,000 port-outs do not cost 100,000 sets.

`Records` knows nothing of locking or of the rules: the state calls it under its lock.
"""

from __future__ import annotations

import bisect

from .entities import (
    EVENT_TYPES,
    STATUSES,
    Comment,
    Document,
    Event,
    PortOut,
    PortoutHistory,
    Report,
    SupportingDocument,
)

__all__ = ["Key", "Records"]

#: (created_ts, id): the sort key of port-outs, events and reports (oldest first)
Key = tuple[float, str]


class Records:
    """The sandbox's data; `SandboxState.clear()` replaces it with a fresh one."""

    def __init__(self) -> None:
        self.portouts: dict[str, PortOut] = {}
        self.order: list[Key] = []
        self.by_status: dict[str, list[Key]] = {s: [] for s in STATUSES}
        self.by_phone: dict[str, str | list[str]] = {}
        self.by_support_key: dict[str, str] = {}
        self.by_pon: dict[str, str | list[str]] = {}
        self.events: dict[str, Event] = {}
        self.event_order: list[Key] = []
        self.events_by_type: dict[str, list[Key]] = {t: [] for t in EVENT_TYPES}
        self.events_by_portout: dict[str, list[str]] = {}
        self.comments: dict[str, list[Comment]] = {}
        self.supporting_documents: dict[str, list[SupportingDocument]] = {}
        self.documents: dict[str, Document] = {}
        self.reports: dict[str, Report] = {}
        self.report_order: list[Key] = []

    def add_portout(self, po: PortOut, *, bulk: bool = False) -> None:
        self.portouts[po.id] = po
        key = po.key
        if bulk:
            self.order.append(key)
            self.by_status[po.status].append(key)
        else:
            bisect.insort(self.order, key)
            bisect.insort(self.by_status[po.status], key)
        pid = po.id
        by_phone = self.by_phone
        for number in po.phone_numbers:
            if by_phone.setdefault(number, pid) is not pid:
                _multi_add(by_phone, number, pid)
        self.by_support_key[po.support_key] = pid
        if self.by_pon.setdefault(po.pon, pid) is not pid:
            _multi_add(self.by_pon, po.pon, pid)

    def add_event(self, ev: Event, *, bulk: bool = False) -> None:
        self.events[ev.id] = ev
        key = ev.key
        if bulk:
            self.event_order.append(key)
            self.events_by_type[ev.event_type].append(key)
        else:
            for keys in (self.event_order, self.events_by_type[ev.event_type]):
                if not keys or keys[-1] <= key:
                    keys.append(key)
                else:
                    bisect.insort(keys, key)
        self.events_by_portout.setdefault(ev.portout_id, []).append(ev.id)

    def add_history(self, history: PortoutHistory) -> None:
        """Bulk-add a seeded port-out with its events, comments and documents."""
        po = history.portout
        self.add_portout(po, bulk=True)
        # add_event(bulk=True) inlined: seeding 100,000 port-outs adds 300,000 events
        events, order, by_type = self.events, self.event_order, self.events_by_type
        ids = self.events_by_portout.setdefault(po.id, [])
        for ev in history.events:
            events[ev.id] = ev
            key = (ev.created_ts, ev.id)
            order.append(key)
            by_type[ev.event_type].append(key)
            ids.append(ev.id)
        if history.comments:
            self.comments[po.id] = history.comments
        if history.documents:
            self.supporting_documents[po.id] = [link for link, _ in history.documents]
            for _, doc in history.documents:
                self.documents[doc.id] = doc

    def add_report(self, report: Report) -> None:
        self.reports[report.id] = report
        self.report_order.append((report.created_ts, report.id))

    def finish_bulk(self) -> None:
        """Sort what bulk adds appended in arrival order."""
        self.order.sort()
        for keys in self.by_status.values():
            keys.sort()
        self.event_order.sort()
        for keys in self.events_by_type.values():
            keys.sort()
        events = self.events
        for ids in self.events_by_portout.values():
            ids.sort(key=lambda i: events[i].key)
        for comments in self.comments.values():
            comments.sort(key=lambda c: c.created_ts)

    def move_status(self, po: PortOut, new_status: str) -> None:
        """Give `po` its new status (a new version) and re-file it under that status."""
        old = self.by_status[po.status]
        key = po.key
        index = bisect.bisect_left(old, key)
        if index < len(old) and old[index] == key:
            del old[index]
        bisect.insort(self.by_status[new_status], key)
        po.status = new_status
        po.version += 1

    def ids_by_phone(self, number: str) -> list[str]:
        return _multi_get(self.by_phone, number)

    def ids_by_pon(self, pon: str) -> list[str]:
        return _multi_get(self.by_pon, pon)


def _multi_add(index: dict[str, str | list[str]], key: str, value: str) -> None:
    """Add `value` under a `key` that `index` already holds (a single id becomes a list)."""
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
