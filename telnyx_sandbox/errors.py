"""Telnyx-style API errors raised by the sandbox state and rendered by the server.

Telnyx answers every failure with `{"errors": [{code, title, detail, source, meta}]}`
(porting error guide). The codes below follow the Telnyx numbering where the docs name
one (10011 rate limit, 10038 service availability) and are otherwise stable sandbox
choices, so tests and clients can match on them.
"""

from __future__ import annotations

from typing import Any

__all__ = ["CODES", "MethodNotAllowed", "SandboxError", "error_body"]

#: code -> (HTTP status, title)
CODES: dict[str, tuple[int, str]] = {
    "10001": (400, "Bad request"),
    "10004": (422, "Missing required parameter"),
    "10005": (404, "Resource not found"),
    "10009": (401, "Authentication failed"),
    "10011": (429, "Too many requests"),
    "10015": (422, "Invalid state"),
    "10016": (422, "Invalid parameter"),
    "10007": (500, "Unexpected error"),
    "10038": (503, "Service unavailable"),
    "10040": (405, "Method not allowed"),
    "10041": (400, "Malformed request"),
}


class SandboxError(Exception):
    """An API failure with its Telnyx error object; `source` is a pointer or a parameter."""

    def __init__(
        self,
        code: str,
        detail: str,
        *,
        pointer: str | None = None,
        parameter: str | None = None,
        title: str | None = None,
        status: int | None = None,
    ) -> None:
        default_status, default_title = CODES[code]
        super().__init__(detail)
        self.code = code
        self.status = status or default_status
        self.title = title or default_title
        self.detail = detail
        self.pointer = pointer
        self.parameter = parameter

    def to_dict(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "title": self.title, "detail": self.detail}
        if self.pointer is not None:
            error["source"] = {"pointer": self.pointer}
        elif self.parameter is not None:
            error["source"] = {"parameter": self.parameter}
        error["meta"] = {"retryable": self.status in (429, 500, 502, 503, 504)}
        return error


class MethodNotAllowed(SandboxError):
    """405: the path exists but does not take this method; `allowed` are the ones it does."""

    def __init__(self, method: str, path: str, allowed: list[str]) -> None:
        super().__init__("10040", f"{method} is not allowed on {path}.")
        self.allowed = sorted(set(allowed) | ({"HEAD"} if "GET" in allowed else set()))


def error_body(*errors: SandboxError) -> dict[str, Any]:
    return {"errors": [e.to_dict() for e in errors]}
