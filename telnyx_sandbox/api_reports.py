"""Handlers of the port-out reports: list, start and read a report."""

from __future__ import annotations

from .entities import REPORT_STATUSES, REPORT_TYPES
from .state import SandboxState
from .wire import Request, Response, data_response, json_response

__all__ = ["create_report", "get_report", "list_reports"]

REPORT_FILTERS = ("filter[report_type]", "filter[status]")


def list_reports(state: SandboxState, req: Request) -> Response:
    q = req.query
    q.check_filters(REPORT_FILTERS)
    page, size = q.page()
    items, meta = state.list_reports(
        report_type=q.get_enum("filter[report_type]", REPORT_TYPES),
        status=q.get_enum("filter[status]", REPORT_STATUSES),
        page=page,
        size=size,
    )
    return json_response(200, {"data": items, "meta": meta})


def create_report(state: SandboxState, req: Request) -> Response:
    return data_response(state.create_report(req.json()).to_dict(), 201)


def get_report(state: SandboxState, req: Request) -> Response:
    return data_response(state.get_report(req.params["id"]).to_dict())
