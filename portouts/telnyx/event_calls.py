"""The Events API: port-out events as Telnyx recorded them, and asking for one again.

Republishing is retried like a read: re-delivering an event creates no new one.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, TypedDict, Unpack

from .paging import Page
from .query import DateLike, check_filters, date_range, segment
from .transport import Transport
from .types import EventData

__all__ = ["EventCalls", "EventFilters"]


class EventFilters(TypedDict, total=False):
    """Filters of `GET /portouts/events`."""

    event_type: str | None
    portout_id: str | None
    created_at_gte: DateLike | None
    created_at_lte: DateLike | None


def _event_query(f: EventFilters) -> dict[str, Any]:
    check_filters(f, EventFilters)
    return {
        "event_type": f.get("event_type"),
        "portout_id": f.get("portout_id"),
        "created_at": date_range(f.get("created_at_gte"), f.get("created_at_lte")),
    }


class EventCalls(Transport):
    def list_events(
        self, *, page_size: int | None = None, **filters: Unpack[EventFilters]
    ) -> Iterator[EventData]:
        query = _event_query(filters)
        return self._listing("/portouts/events", query, EventData.from_api, page_size)

    def list_events_page(
        self,
        *,
        page_number: int = 1,
        page_size: int | None = None,
        **filters: Unpack[EventFilters],
    ) -> Page[EventData]:
        query = _event_query(filters)
        return self._page("/portouts/events", query, EventData.from_api, page_number, page_size)

    def get_event(self, event_id: str) -> EventData:
        path = f"/portouts/events/{segment(event_id, 'event_id')}"
        return EventData.from_api(self._get_object("GET", path))

    def republish_event(self, event_id: str) -> None:
        """Ask Telnyx to deliver an event again (204). Safe to retry: it creates no new event."""
        self._send("POST", f"/portouts/events/{segment(event_id, 'event_id')}/republish")
