"""Which handler answers a request: the route table, the API key check and dispatch.

A path no route takes is a 404, a method the path does not take a 405 naming the ones it
does (in an `Allow` header too), both in Telnyx's error shape; HEAD is answered as GET.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from . import api_events, api_files, api_numbers, api_portouts, api_reports
from .errors import MethodNotAllowed, SandboxError
from .params import Query
from .state import SandboxState
from .wire import Request, Response

__all__ = ["authenticate", "dispatch"]

Handler = Callable[[SandboxState, Request], Response]

_ID = r"(?P<id>[^/]+)"
_TABLE: list[tuple[str, str, Handler]] = [
    ("GET", r"/portouts", api_portouts.list_portouts),
    ("GET", r"/portouts/events", api_events.list_events),
    ("GET", rf"/portouts/events/{_ID}", api_events.get_event),
    ("POST", rf"/portouts/events/{_ID}/republish", api_events.republish_event),
    ("GET", r"/portouts/reports", api_reports.list_reports),
    ("POST", r"/portouts/reports", api_reports.create_report),
    ("GET", rf"/portouts/reports/{_ID}", api_reports.get_report),
    ("GET", rf"/portouts/rejections/{_ID}", api_portouts.list_rejections),
    ("GET", rf"/portouts/{_ID}", api_portouts.get_portout),
    ("GET", rf"/portouts/{_ID}/comments", api_portouts.list_comments),
    ("POST", rf"/portouts/{_ID}/comments", api_portouts.create_comment),
    ("GET", rf"/portouts/{_ID}/supporting_documents", api_portouts.list_supporting_documents),
    ("POST", rf"/portouts/{_ID}/supporting_documents", api_portouts.create_supporting_documents),
    ("PATCH", rf"/portouts/{_ID}/(?P<status>[^/]+)", api_portouts.update_status),
    ("POST", r"/documents", api_files.create_document),
    ("GET", rf"/documents/{_ID}", api_files.get_document),
    ("GET", rf"/documents/{_ID}/download", api_files.download_document),
    ("GET", rf"/documents/{_ID}/download_link", api_files.document_download_link),
    ("GET", r"/phone_numbers", api_numbers.list_phone_numbers),
    ("GET", rf"/phone_numbers/{_ID}", api_numbers.get_phone_number),
]
ROUTES = [(method, re.compile(pattern + "/?"), fn) for method, pattern, fn in _TABLE]


def dispatch(
    state: SandboxState, method: str, path: str, query: Query, headers: Any, body: bytes
) -> Response:
    """The answer of the handler of (method, path), `path` without the `/v2` prefix."""
    wanted = "GET" if method == "HEAD" else method
    allowed: list[str] = []
    for route_method, pattern, fn in ROUTES:
        match = pattern.fullmatch(path)
        if match is None:
            continue
        if route_method != wanted:
            allowed.append(route_method)
            continue
        params = {k: unquote(v) for k, v in match.groupdict().items()}
        return fn(state, Request(method, path, query, headers, body, params))
    if allowed:
        raise MethodNotAllowed(method, "/v2" + path, allowed)
    raise SandboxError("10005", f"No route for {method} /v2{path}.")


def authenticate(api_key: str | None, headers: Any) -> None:
    """A bearer key is required; it must be `api_key` when one is configured."""
    auth = headers.get("Authorization") or ""
    scheme, _, key = auth.partition(" ")
    key = key.strip()
    if scheme.lower() != "bearer" or not key:
        raise SandboxError(
            "10009", "Missing or malformed 'Authorization: Bearer <API key>' header."
        )
    if api_key and key != api_key:
        raise SandboxError("10009", "The API key is not valid.")
