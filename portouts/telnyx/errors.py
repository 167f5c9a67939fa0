"""Exceptions raised by the Telnyx client.

The hierarchy mirrors the official Telnyx SDKs so callers can catch broadly
(`APIError`) or narrowly (`NotFoundError`). Messages are written for the person
reading a log: what happened, on which request, and what to do about it. They never
contain the API key (the client scrubs it from any text it quotes).

What a person reads on a page is shorter and the same wherever the failure is shown:
`failure_sentence(exc)` (each class's `sentence`, worded by its `reads` template). Every
page or service that shows a Telnyx failure uses it instead of wording its own sentence
per status, and adds only what it knows beyond the failure.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "DocumentTooLargeError",
    "InternalServerError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "UnprocessableEntityError",
    "WebhookPayloadError",
    "WebhookVerificationError",
    "error_class_for_status",
    "failure_sentence",
    "normalize_errors",
]

# Statuses worth another attempt: request timeout, lock conflict, rate limit, server trouble.
RETRYABLE_STATUSES = frozenset({408, 409, 429})


class APIError(Exception):
    """Base class of every error raised while talking to Telnyx."""

    #: what a person reads about this failure (see `sentence`)
    reads = "Telnyx could not be asked; try again shortly."

    def __init__(self, message: str, *, method: str | None = None, path: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.method = method
        self.path = path

    @property
    def retryable(self) -> bool:
        """Whether repeating the same request later might succeed."""
        return False

    @property
    def sentence(self) -> str:
        """The one sentence a person reads about this failure: plain words, no secrets, no
        claim about what Telnyx did beyond what the failure itself says."""
        return self.reads


class APIConnectionError(APIError):
    """Telnyx could not be reached, or the connection broke before a response arrived."""

    reads = "The connection to Telnyx broke before it answered."
    reads_not_sent = "The dashboard could not reach Telnyx. Nothing was sent; try again shortly."

    #: True when no attempt left this process (every connection was refused before sending),
    #: so Telnyx certainly did not act on the request.
    not_sent: bool = False

    @property
    def retryable(self) -> bool:
        return True

    @property
    def sentence(self) -> str:
        return self.reads_not_sent if self.not_sent else self.reads


class APITimeoutError(APIConnectionError):
    """The request to Telnyx took longer than the configured timeout."""

    reads = "Telnyx did not answer in time."


class APIResponseValidationError(APIError):
    """Telnyx answered 2xx with a body this client cannot read (not JSON, no `data`)."""

    reads = "Telnyx answered, but its answer could not be read."


class APIStatusError(APIError):
    """Telnyx answered with a non-2xx status.

    Carries the status, the Telnyx `errors` list (each a dict with code, title,
    detail, source and meta), the response headers and the request id.
    """

    #: first words of the message, specialised by subclasses
    summary = "Telnyx rejected the request"
    #: advice appended to the message when Telnyx gave no detail
    hint = ""
    #: what a person reads: `{status}` is "(429)" plus the request id when Telnyx gave one,
    #: `{detail}` Telnyx's own words, `{thing}` what was asked for ("this port-out")
    reads = "Telnyx refused the request {status}: {detail}."

    def __init__(
        self,
        message: str | None = None,
        *,
        status_code: int,
        errors: list[dict[str, Any]] | None = None,
        headers: Mapping[str, str] | None = None,
        method: str | None = None,
        path: str | None = None,
        body_excerpt: str | None = None,
    ) -> None:
        self.status_code = status_code
        self.errors: list[dict[str, Any]] = list(errors or [])
        self.headers: dict[str, str] = {k.lower(): v for k, v in (headers or {}).items()}
        self.request_id: str | None = self.headers.get("x-request-id") or self.headers.get(
            "request-id"
        )
        if message is None:
            message = self._build_message(method, path, body_excerpt)
        super().__init__(message, method=method, path=path)

    def _build_message(self, method: str | None, path: str | None, body_excerpt: str | None) -> str:
        parts: list[str] = []
        for err in self.errors:
            text = err.get("detail") or err.get("title") or ""
            if err.get("title") and err.get("detail") and err["title"] not in err["detail"]:
                text = f"{err['title']}: {err['detail']}"
            pointer = _source_text(err.get("source"))
            if pointer:
                text = f"{text} ({pointer})" if text else pointer
            if err.get("code") not in (None, ""):
                text = f"{text} [code {err['code']}]"
            if text:
                parts.append(text.strip())
        where = f" on {method} {path}" if method and path else ""
        msg = f"{self.summary} ({self.status_code}{where})"
        if parts:
            msg += ": " + " ".join(p if p.endswith((".", "]", ")")) else p + "." for p in parts)
        elif body_excerpt:
            msg += f": {body_excerpt}"
        else:
            msg += "."
        if self.hint:
            msg += f" {self.hint}"
        if self.request_id:
            msg += f" (request id {self.request_id})"
        return msg

    @property
    def retryable(self) -> bool:
        """408/409/429/5xx, or Telnyx flagged an error as retryable (`meta.retryable`)."""
        if self.status_code in RETRYABLE_STATUSES or self.status_code >= 500:
            return True
        return any(
            isinstance(e.get("meta"), dict) and e["meta"].get("retryable") is True
            for e in self.errors
        )

    @property
    def codes(self) -> list[str]:
        """The Telnyx error codes, as strings (handy for matching e.g. "10015")."""
        return [str(e["code"]) for e in self.errors if e.get("code") not in (None, "")]

    @property
    def sentence(self) -> str:
        status = f"({self.status_code})"
        if self.request_id:
            status += f" (Telnyx request id {self.request_id})"
        parts = [str(e.get("detail") or e.get("title") or "").strip() for e in self.errors]
        detail = "; ".join(p.rstrip(".") for p in parts if p) or "no detail given"
        return self.reads.format(status=status, detail=detail, thing=_thing(self.path))


class BadRequestError(APIStatusError):
    summary = "Telnyx rejected the request as malformed"


class AuthenticationError(APIStatusError):
    summary = "Telnyx did not accept the API key"
    hint = "Check TELNYX_API_KEY (it may be missing, revoked or for another account)."
    reads = (
        "Telnyx did not accept the dashboard's API key {status}, so nothing was changed; "
        "an administrator needs to check the Telnyx API key setting."
    )


class PermissionDeniedError(APIStatusError):
    summary = "Telnyx refused access"
    hint = "The API key's account may not own this resource or lack the porting feature."
    reads = (
        "Telnyx refused access {status}, so nothing was changed: this Telnyx account is not "
        "allowed to do that."
    )


class NotFoundError(APIStatusError):
    summary = "Telnyx could not find the resource"
    hint = "It may have been removed or belong to another account."
    reads = "Telnyx could not find {thing} {status}; it may have been removed."


class ConflictError(APIStatusError):
    summary = "Telnyx reported a conflict"
    hint = "Another change happened at the same time; try again shortly."
    reads = "Telnyx reported a conflicting change {status}; reload and check what it shows."


class UnprocessableEntityError(APIStatusError):
    summary = "Telnyx rejected the request"


class RateLimitError(APIStatusError):
    summary = "Telnyx is rate-limiting this account"
    hint = "Wait a moment before trying again."
    reads = (
        "Telnyx is receiving too many requests from this account {status}; wait a minute, "
        "then try again."
    )


class InternalServerError(APIStatusError):
    summary = "Telnyx had a server error"
    hint = "This is usually temporary; try again in a few minutes."
    reads = "Telnyx had a server error {status}; try again in a few minutes."


_BY_STATUS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


#: What a request path asks for, in the words of a 404's sentence (first match wins).
_THINGS: tuple[tuple[str, str], ...] = (
    ("/portouts/events", "this event"),
    ("/portouts/reports", "this report"),
    ("/portouts", "this port-out"),
    ("/documents", "this document"),
)


def _thing(path: str | None) -> str:
    for prefix, thing in _THINGS:
        if (path or "").startswith(prefix):
            return thing
    return "what was asked for"


def failure_sentence(exc: BaseException) -> str:
    """The one sentence a person reads about a failure to talk to Telnyx.

    The same failure reads the same on every page (decision panel, comments, downloads,
    events, reports); callers add only what they know beyond it (e.g. what Telnyx shows
    after a re-check). Any other exception reads as Telnyx not being asked.
    """
    if isinstance(exc, APIError):
        return exc.sentence
    return APIError.reads


def error_class_for_status(status_code: int) -> type[APIStatusError]:
    """The exception class for an HTTP status (other 4xx → plain APIStatusError)."""
    if status_code >= 500:
        return InternalServerError
    return _BY_STATUS.get(status_code, APIStatusError)


def normalize_errors(body: Any) -> list[dict[str, Any]]:
    """Extract Telnyx's `{"errors": [...]}` into dicts with code/title/detail/source/meta.

    Tolerates a bare string list, a single error object, or a `{"message": ...}` body.
    """
    if not isinstance(body, dict):
        return []
    raw = body.get("errors")
    if isinstance(raw, dict):
        raw = [raw]
    if not isinstance(raw, list):
        message = body.get("message") or body.get("detail")
        return [_blank_error(detail=str(message))] if message else []
    out: list[dict[str, Any]] = []
    for item in raw:
        if isinstance(item, dict):
            code = item.get("code")
            out.append(
                {
                    "code": None if code is None else str(code),
                    "title": item.get("title"),
                    "detail": item.get("detail"),
                    "source": item.get("source") if isinstance(item.get("source"), dict) else None,
                    "meta": item.get("meta") if isinstance(item.get("meta"), dict) else None,
                }
            )
        elif item is not None:
            out.append(_blank_error(detail=str(item)))
    return out


def _blank_error(*, detail: str) -> dict[str, Any]:
    return {"code": None, "title": None, "detail": detail, "source": None, "meta": None}


def _source_text(source: Any) -> str:
    if not isinstance(source, dict):
        return ""
    if source.get("pointer"):
        return f"field {source['pointer']}"
    if source.get("parameter"):
        return f"parameter {source['parameter']}"
    return ""


class DocumentTooLargeError(ValueError):
    """Refused locally: Telnyx accepts documents of at most 20 MB."""


class WebhookVerificationError(ValueError):
    """A webhook delivery failed its Ed25519 signature or timestamp check."""


class WebhookPayloadError(ValueError):
    """A webhook delivery is not the JSON envelope Telnyx sends."""
