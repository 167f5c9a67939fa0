"""A request as the handlers read it and the response they give, in Telnyx's shapes.

The handlers (`api_*.py`) take a `Request` and return a `Response`; the HTTP side
(`http_handler.py`) builds the one and writes the other. List bodies are joined from each
record's cached JSON bytes, so a page costs a join, not a re-serialisation.
"""

from __future__ import annotations

import json
from typing import Any

from .entities import dumps
from .errors import MethodNotAllowed, SandboxError, error_body
from .params import Query

__all__ = [
    "Request",
    "Response",
    "data_bytes",
    "data_response",
    "error_response",
    "json_response",
    "list_response",
]


class Response:
    __slots__ = ("body", "content_type", "headers", "status")

    def __init__(
        self,
        status: int,
        body: bytes = b"",
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
    ) -> None:
        self.status = status
        self.body = body
        self.content_type = content_type
        self.headers = headers or {}


def json_response(status: int, obj: Any) -> Response:
    return Response(status, dumps(obj))


def data_response(obj: Any, status: int = 200) -> Response:
    return json_response(status, {"data": obj})


def data_bytes(record_json: bytes) -> Response:
    """`{"data": ...}` around a record's cached JSON."""
    return Response(200, b'{"data":' + record_json + b"}")


def list_response(items: list[bytes], meta: dict[str, int] | None) -> Response:
    body = b'{"data":[' + b",".join(items) + b"]"
    if meta is not None:
        body += b',"meta":' + dumps(meta)
    return Response(200, body + b"}")


def error_response(err: SandboxError, headers: dict[str, str] | None = None) -> Response:
    if isinstance(err, MethodNotAllowed):
        headers = {**(headers or {}), "Allow": ", ".join(err.allowed)}
    return Response(err.status, dumps(error_body(err)), headers=headers)


class Request:
    __slots__ = ("body", "content_type", "headers", "method", "params", "path", "query")

    def __init__(
        self,
        method: str,
        path: str,
        query: Query,
        headers: Any,
        body: bytes,
        params: dict[str, str],
    ) -> None:
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.params = params
        self.content_type = (headers.get("Content-Type") or "").lower()

    def json(self) -> dict[str, Any]:
        if not self.body.strip():
            raise SandboxError("10001", "The request body must be a JSON object.", status=400)
        try:
            value = json.loads(self.body)
        except ValueError:
            raise SandboxError("10001", "The request body is not valid JSON.", status=400) from None
        if not isinstance(value, dict):
            raise SandboxError("10001", "The request body must be a JSON object.", status=400)
        return value
