"""Handlers of the Events API: list, read and republish port-out events."""

from __future__ import annotations

from .entities import EVENT_TYPES
from .state import SandboxState
from .wire import Request, Response, data_bytes, list_response

__all__ = ["get_event", "list_events", "republish_event"]

EVENT_FILTERS = (
    "filter[event_type]",
    "filter[portout_id]",
    "filter[created_at][gte]",
    "filter[created_at][lte]",
)


def list_events(state: SandboxState, req: Request) -> Response:
    q = req.query
    q.check_filters(EVENT_FILTERS)
    page, size = q.page()
    items, meta = state.list_events(
        event_type=q.get_enum("filter[event_type]", EVENT_TYPES),
        portout_id=q.get("filter[portout_id]"),
        gte=q.get_datetime("filter[created_at][gte]"),
        lte=q.get_datetime("filter[created_at][lte]"),
        page=page,
        size=size,
    )
    return list_response(items, meta)


def get_event(state: SandboxState, req: Request) -> Response:
    with state.lock:
        return data_bytes(state.event_json(state.get_event(req.params["id"])))


def republish_event(state: SandboxState, req: Request) -> Response:
    state.republish(req.params["id"])
    return Response(204)
