"""Handlers of the account's number inventory (`GET /phone_numbers`)."""

from __future__ import annotations

from .numbers import number_filter
from .state import SandboxState
from .wire import Request, Response, data_bytes, list_response

__all__ = ["get_phone_number", "list_phone_numbers"]


def list_phone_numbers(state: SandboxState, req: Request) -> Response:
    flt = number_filter(req.query)
    page, size = req.query.page()
    return list_response(*state.list_phone_numbers(flt, page, size))


def get_phone_number(state: SandboxState, req: Request) -> Response:
    with state.lock:
        return data_bytes(state.get_phone_number(req.params["id"]).json())
