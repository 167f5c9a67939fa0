"""HTTP client for the Telnyx port-out, events, reports, documents and phone-number APIs.

One `TelnyxClient` wraps one `httpx.Client`, so connections are pooled; use
`get_client()` to share a single instance per process. The API key lives only
in the `Authorization` header of that `httpx.Client`: it is kept out of reprs,
log lines (requests are logged at DEBUG without headers) and exception text.
See `portouts.telnyx.retry` for which requests are retried and how.

Why one module of ~800 lines: one concern, the API's operations on one transport. Each
operation is a few lines over `_send`; splitting them by resource would put the retry
mode of each request (the rule that no comment or upload is sent twice) far from it.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import logging
import os
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any, Literal, TypedDict, Unpack
from urllib.parse import quote

import httpx

from . import retry as retry_module
from .errors import (
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    DocumentTooLargeError,
    error_class_for_status,
    normalize_errors,
)
from .numbers import PhoneNumberFilters, phone_number_query
from .query import encode_query, to_utc_datetime
from .retry import RetryPolicy
from .types import (
    CommentData,
    DocumentData,
    EventData,
    Page,
    PageMeta,
    PhoneNumberData,
    PortoutData,
    RejectionCodeData,
    ReportData,
    SupportingDocumentData,
    walk_pages,
)

__all__ = [
    "DEFAULT_BASE_URL",
    "MAX_DOCUMENT_BYTES",
    "EventFilters",
    "PortoutFilters",
    "ReportFilters",
    "TelnyxClient",
    "get_client",
    "reset_client",
]

logger = logging.getLogger("portouts.telnyx")

DEFAULT_BASE_URL = "https://api.telnyx.com/v2"
MAX_PAGE_SIZE = 250
#: Telnyx Documents refuses files above 20 MB; we refuse them before uploading.
MAX_DOCUMENT_BYTES = 20 * 1024 * 1024
SUPPORTING_DOCUMENT_TYPES = frozenset({"loa", "invoice"})
STATUS_UPDATES = frozenset({"authorized", "rejected-pending"})

DateLike = datetime | date | str
RetryMode = Literal["always", "not_sent"]

# Transport failures worth another attempt (a bad URL or protocol misuse is not).
_TRANSIENT = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)


class PortoutFilters(TypedDict, total=False):
    """Filters of `GET /portouts` (list values are comma-joined on the wire)."""

    status: str | None
    status_in: Sequence[str] | None
    carrier_name: str | None
    spid: str | None
    pon: str | None
    phone_number: str | None
    support_key: str | None
    country_code: str | None
    country_code_in: Sequence[str] | None
    foc_date: DateLike | None
    inserted_at_gte: DateLike | None
    inserted_at_lte: DateLike | None
    ported_out_at_gte: DateLike | None
    ported_out_at_lte: DateLike | None


class EventFilters(TypedDict, total=False):
    """Filters of `GET /portouts/events`."""

    event_type: str | None
    portout_id: str | None
    created_at_gte: DateLike | None
    created_at_lte: DateLike | None


class ReportFilters(TypedDict, total=False):
    """Filters of `GET /portouts/reports`."""

    report_type: str | None
    status: str | None


def _check_filters(given: Mapping[str, Any], allowed: type) -> None:
    unknown = set(given) - set(allowed.__annotations__)
    if unknown:
        raise TypeError(
            f"unknown filter(s) {sorted(unknown)}; allowed: {sorted(allowed.__annotations__)}"
        )


def _date(value: DateLike | None, *, end_of_day: bool = False) -> str | None:
    return None if value is None else to_utc_datetime(value, end_of_day=end_of_day)


def _range(gte: DateLike | None, lte: DateLike | None) -> dict[str, str | None] | None:
    if gte is None and lte is None:
        return None
    return {"gte": _date(gte), "lte": _date(lte, end_of_day=True)}


def _listish(value: Sequence[str] | str | None) -> list[str] | None:
    if value is None:
        return None
    return [value] if isinstance(value, str) else list(value)


def _portout_query(f: PortoutFilters) -> dict[str, Any]:
    _check_filters(f, PortoutFilters)
    return {
        "status": f.get("status"),
        "status_in": _listish(f.get("status_in")),
        "carrier_name": f.get("carrier_name"),
        "spid": f.get("spid"),
        "pon": f.get("pon"),
        "phone_number": f.get("phone_number"),
        "support_key": f.get("support_key"),
        "country_code": f.get("country_code"),
        "country_code_in": _listish(f.get("country_code_in")),
        "foc_date": _date(f.get("foc_date")),
        "inserted_at": _range(f.get("inserted_at_gte"), f.get("inserted_at_lte")),
        "ported_out_at": _range(f.get("ported_out_at_gte"), f.get("ported_out_at_lte")),
    }


def _event_query(f: EventFilters) -> dict[str, Any]:
    _check_filters(f, EventFilters)
    return {
        "event_type": f.get("event_type"),
        "portout_id": f.get("portout_id"),
        "created_at": _range(f.get("created_at_gte"), f.get("created_at_lte")),
    }


def _report_query(f: ReportFilters) -> dict[str, Any]:
    _check_filters(f, ReportFilters)
    return {"report_type": f.get("report_type"), "status": f.get("status")}


def _segment(value: str, what: str) -> str:
    """Quote an id for use as one path segment; an empty id would hit another endpoint."""
    text = str(value).strip() if value is not None else ""
    if not text:
        raise ValueError(f"{what} is empty")
    return quote(text, safe="")


def _jsonable(value: Any) -> Any:
    """Make report filters JSON-safe: datetimes as UTC `Z` strings, tuples/sets as lists."""
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime | date):
        return to_utc_datetime(value)
    return value


class TelnyxClient:
    """Typed client for the Telnyx port-out API (v2).

    `sleep` replaces the wait between retries (tests pass a fake); when None the
    client calls `portouts.telnyx.retry.sleep`, looked up at call time.
    """

    def __init__(
        self,
        api_key: str,
        base_url: str = DEFAULT_BASE_URL,
        timeout: float = 10.0,
        max_retries: int = 3,
        page_size: int = MAX_PAGE_SIZE,
        transport: httpx.BaseTransport | None = None,
        *,
        sleep: Callable[[float], None] | None = None,
        retry_policy: RetryPolicy | None = None,
    ) -> None:
        if max_retries < 0:
            raise ValueError("max_retries must be 0 or more")
        self._api_key = api_key or ""
        self.base_url = base_url.rstrip("/")
        self.timeout = float(timeout)
        self.page_size = self._check_page_size(page_size)
        self.retry_policy = retry_policy or RetryPolicy(max_retries=max_retries)
        self._sleep = sleep
        self._http = httpx.Client(
            base_url=self.base_url + "/",
            headers={
                "Authorization": f"Bearer {self._api_key}",
                "Accept": "application/json",
                "User-Agent": "portout-review/0.1 (+httpx)",
            },
            timeout=httpx.Timeout(self.timeout),
            transport=transport,
        )
        #: per-request timeout of a `with_options` copy; None = the pool's default
        self._request_timeout: httpx.Timeout | None = None

    @property
    def max_retries(self) -> int:
        return self.retry_policy.max_retries

    def __repr__(self) -> str:
        return (
            f"TelnyxClient(base_url={self.base_url!r}, timeout={self.timeout!r}, "
            f"max_retries={self.max_retries!r})"
        )

    def with_options(
        self,
        *,
        timeout: float | None = None,
        max_retries: int | None = None,
        retry_after_cap: float | None = None,
    ) -> TelnyxClient:
        """A copy with a tighter (or looser) budget that shares this client's connection pool.

        For callers inside a web request, which must answer before the server's timeout,
        while background work keeps the default retries. Do not close the copy: closing
        it closes the shared pool; leave that to the original.
        """
        clone = copy.copy(self)
        if timeout is not None:
            clone.timeout = float(timeout)
            clone._request_timeout = httpx.Timeout(clone.timeout)
        changes: dict[str, Any] = {}
        if max_retries is not None:
            if max_retries < 0:
                raise ValueError("max_retries must be 0 or more")
            changes["max_retries"] = max_retries
        if retry_after_cap is not None:
            changes["retry_after_cap"] = float(retry_after_cap)
        if changes:
            clone.retry_policy = dataclasses.replace(self.retry_policy, **changes)
        return clone

    # -- lifecycle --------------------------------------------------------

    def close(self) -> None:
        self._http.close()

    @property
    def is_closed(self) -> bool:
        return self._http.is_closed

    def __enter__(self) -> TelnyxClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- transport --------------------------------------------------------

    def _redact(self, text: str) -> str:
        if self._api_key and self._api_key in text:
            return text.replace(self._api_key, "[redacted]")
        return text

    def _wait(self, seconds: float) -> None:
        (self._sleep or retry_module.sleep)(seconds)

    def _send(
        self,
        method: str,
        path: str,
        *,
        retry: RetryMode = "always",
        stream: bool = False,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        files: Any = None,
        data: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """Send one logical request, retrying per the policy; return a 2xx response.

        With `retry="not_sent"` the request is repeated only when it certainly
        never left (connect errors), because repeating it could create a duplicate.
        """
        policy = self.retry_policy
        attempts = policy.max_retries + 1
        query: list[tuple[str, Any]] | None = encode_query(params) if params else None
        timeout = self._request_timeout or httpx.USE_CLIENT_DEFAULT
        # Whether any attempt may have reached Telnyx (not just the last one).
        maybe_sent = False
        build = {"params": query, "json": json, "files": files, "data": data}
        for attempt in range(1, attempts + 1):
            request = self._http.build_request(
                method, path.lstrip("/"), **build, headers=headers, timeout=timeout
            )
            try:
                response = self._http.send(request, stream=stream)
            except httpx.RequestError as exc:
                maybe_sent = maybe_sent or not policy.was_not_sent(exc)
                may_retry = isinstance(exc, _TRANSIENT) and (
                    retry == "always" or policy.was_not_sent(exc)
                )
                logger.debug(
                    "Telnyx %s %s failed: %s (attempt %d of %d)",
                    *(method, path, type(exc).__name__, attempt, attempts),
                )
                if may_retry and attempt < attempts:
                    self._retry_wait(method, path, attempt, None)
                    continue
                failure = self._connection_error(exc, method, path, attempt, retry)
                failure.not_sent = not maybe_sent
                raise failure from exc
            maybe_sent = True
            logger.debug(
                "Telnyx %s %s -> %d (attempt %d of %d)",
                *(method, path, response.status_code, attempt, attempts),
            )
            if response.is_success:
                return response
            if stream:
                response.read()
                response.close()
            error = self._status_error(response, method, path)
            if retry == "always" and error.retryable and attempt < attempts:
                self._retry_wait(method, path, attempt, response.headers)
                continue
            raise error
        raise AssertionError("unreachable")  # pragma: no cover

    def _retry_wait(
        self, method: str, path: str, attempt: int, headers: httpx.Headers | None
    ) -> None:
        delay = self.retry_policy.delay(attempt - 1, headers)
        logger.info("Retrying Telnyx %s %s in %.2f s (attempt %d)", method, path, delay, attempt)
        self._wait(delay)

    def _connection_error(
        self, exc: httpx.RequestError, method: str, path: str, attempts: int, retry: RetryMode
    ) -> APIConnectionError:
        tries = f"{attempts} attempt{'s' if attempts != 1 else ''}"
        maybe_sent = retry == "not_sent" and not self.retry_policy.was_not_sent(exc)
        caution = (
            " The request may have reached Telnyx: check before sending it again."
            if maybe_sent
            else ""
        )
        if isinstance(exc, httpx.TimeoutException):
            message = (
                f"Telnyx did not answer {method} {path} within {self.timeout:g} s "
                f"({tries}). Telnyx may be slow or unreachable; try again later.{caution}"
            )
            return APITimeoutError(self._redact(message), method=method, path=path)
        detail = self._redact(str(exc)) or type(exc).__name__
        message = (
            f"Could not reach Telnyx for {method} {path} ({tries}): {detail}. "
            f"Check the network and TELNYX_API_BASE_URL.{caution}"
        )
        return APIConnectionError(message, method=method, path=path)

    def _status_error(self, response: httpx.Response, method: str, path: str) -> APIStatusError:
        body: Any = None
        excerpt: str | None = None
        try:
            body = response.json()
        except ValueError:
            text = " ".join(response.text.split())[:200] if _is_text(response) else ""
            excerpt = self._redact(text) or None
        errors = normalize_errors(body)
        for err in errors:
            for key in ("title", "detail"):
                if isinstance(err.get(key), str):
                    err[key] = self._redact(err[key])
        cls = error_class_for_status(response.status_code)
        return cls(
            status_code=response.status_code,
            errors=errors,
            headers=dict(response.headers),
            method=method,
            path=path,
            body_excerpt=excerpt,
        )

    def _json(self, response: httpx.Response, method: str, path: str) -> dict[str, Any]:
        try:
            body = response.json()
        except ValueError as exc:
            raise APIResponseValidationError(
                f"Telnyx answered {method} {path} with {response.status_code} but the body is not "
                "JSON; check TELNYX_API_BASE_URL points at the Telnyx API.",
                method=method,
                path=path,
            ) from exc
        if not isinstance(body, dict):
            raise APIResponseValidationError(
                f"Telnyx answered {method} {path} with JSON that is not an object.",
                method=method,
                path=path,
            )
        return body

    def _get_data(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._send(method, path, **kwargs)
        return self._json(response, method, path).get("data")

    def _get_object(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        data = self._get_data(method, path, **kwargs)
        if not isinstance(data, dict):
            raise APIResponseValidationError(
                f"Telnyx answered {method} {path} without a `data` object.",
                method=method,
                path=path,
            )
        return data

    def _get_list(self, method: str, path: str, **kwargs: Any) -> list[dict[str, Any]]:
        data = self._get_data(method, path, **kwargs)
        if data is None:
            return []
        if not isinstance(data, list):
            raise APIResponseValidationError(
                f"Telnyx answered {method} {path} without a `data` list.", method=method, path=path
            )
        return [item for item in data if isinstance(item, dict)]

    # -- pagination -------------------------------------------------------

    @staticmethod
    def _check_page_size(size: int) -> int:
        if not 1 <= int(size) <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be between 1 and {MAX_PAGE_SIZE}, got {size}")
        return int(size)

    def _page[T](
        self,
        path: str,
        filters: Mapping[str, Any],
        parse: Callable[[dict[str, Any]], T],
        page_number: int,
        page_size: int | None,
    ) -> Page[T]:
        if page_number < 1:
            raise ValueError("page_number starts at 1")
        size = self._check_page_size(page_size if page_size is not None else self.page_size)
        params = {"filter": filters, "page": {"number": page_number, "size": size}}
        response = self._send("GET", path, params=params)
        body = self._json(response, "GET", path)
        items = body.get("data")
        if not isinstance(items, list):
            items = []
        return Page(
            data=[parse(item) for item in items if isinstance(item, dict)],
            meta=PageMeta.from_api(body.get("meta")),
        )

    @staticmethod
    def _iterate[T](fetch: Callable[[int], Page[T]]) -> Iterator[T]:
        for page in walk_pages(fetch):
            yield from page.data

    # -- port-outs --------------------------------------------------------

    def list_portouts(
        self, *, page_size: int | None = None, **filters: Unpack[PortoutFilters]
    ) -> Iterator[PortoutData]:
        """Every port-out matching the filters, across all pages.

        Dates accept datetime/date/str; a date used as an upper bound (`*_lte`)
        covers that whole day. Empty lists are treated as "no filter".
        """
        query = _portout_query(filters)
        return self._iterate(
            lambda n: self._page("/portouts", query, PortoutData.from_api, n, page_size)
        )

    def list_portouts_page(
        self,
        *,
        page_number: int = 1,
        page_size: int | None = None,
        **filters: Unpack[PortoutFilters],
    ) -> Page[PortoutData]:
        """One page of port-outs with its meta (for paginated tables)."""
        query = _portout_query(filters)
        return self._page("/portouts", query, PortoutData.from_api, page_number, page_size)

    def get_portout(self, portout_id: str) -> PortoutData:
        path = f"/portouts/{_segment(portout_id, 'portout_id')}"
        return PortoutData.from_api(self._get_object("GET", path))

    def update_portout_status(
        self,
        portout_id: str,
        *,
        status: Literal["authorized", "rejected-pending"],
        reason: str,
        host_messaging: bool = False,
        rejection_code: int | None = None,
    ) -> PortoutData:
        """Authorize or reject a pending port-out.

        `rejection_code` is sent as an extra body field when rejecting: the Telnyx
        guide asks for it although the published schema does not list it.
        """
        if status not in STATUS_UPDATES:
            raise ValueError(f"status must be one of {sorted(STATUS_UPDATES)}, got {status!r}")
        if rejection_code is not None and status != "rejected-pending":
            raise ValueError("rejection_code only applies when status is 'rejected-pending'")
        body: dict[str, Any] = {"reason": reason, "host_messaging": bool(host_messaging)}
        if rejection_code is not None:
            body["rejection_code"] = int(rejection_code)
        path = f"/portouts/{_segment(portout_id, 'portout_id')}/{status}"
        return PortoutData.from_api(self._get_object("PATCH", path, json=body))

    def list_rejection_codes(
        self, portout_id: str, *, code: int | None = None, code_in: Sequence[int] | None = None
    ) -> list[RejectionCodeData]:
        """Rejection codes Telnyx accepts for this port-out (not paginated)."""
        if code is not None and code_in is not None:
            raise ValueError("pass code or code_in, not both")
        filters: dict[str, Any] = {}
        if code is not None:
            filters["code"] = int(code)
        elif code_in is not None:
            filters["code"] = {"in": [int(c) for c in code_in]}
        path = f"/portouts/rejections/{_segment(portout_id, 'portout_id')}"
        params = {"filter": filters} if filters else None
        return [RejectionCodeData.from_api(d) for d in self._get_list("GET", path, params=params)]

    def list_comments(self, portout_id: str) -> list[CommentData]:
        path = f"/portouts/{_segment(portout_id, 'portout_id')}/comments"
        return [CommentData.from_api(d) for d in self._get_list("GET", path)]

    def create_comment(self, portout_id: str, *, body: str) -> CommentData:
        """Post a comment. Not retried once sent: a retry could post it twice."""
        if not body or not body.strip():
            raise ValueError("comment body is empty")
        path = f"/portouts/{_segment(portout_id, 'portout_id')}/comments"
        data = self._get_object("POST", path, json={"body": body}, retry="not_sent")
        return CommentData.from_api(data)

    def list_supporting_documents(self, portout_id: str) -> list[SupportingDocumentData]:
        """Documents attached to a port-out (Telnyx documents this GET as 201; any 2xx is fine)."""
        path = f"/portouts/{_segment(portout_id, 'portout_id')}/supporting_documents"
        return [SupportingDocumentData.from_api(d) for d in self._get_list("GET", path)]

    def create_supporting_documents(
        self, portout_id: str, *, documents: Sequence[tuple[str, str]]
    ) -> list[SupportingDocumentData]:
        """Attach 1–10 uploaded documents, each `(type, document_id)` with type "loa"/"invoice"."""
        if not 1 <= len(documents) <= 10:
            raise ValueError("attach between 1 and 10 documents at a time")
        items = []
        for doc_type, document_id in documents:
            if doc_type not in SUPPORTING_DOCUMENT_TYPES:
                raise ValueError(f"document type must be 'loa' or 'invoice', got {doc_type!r}")
            if not document_id:
                raise ValueError("document_id is empty")
            items.append({"type": doc_type, "document_id": str(document_id)})
        path = f"/portouts/{_segment(portout_id, 'portout_id')}/supporting_documents"
        data = self._get_list("POST", path, json={"documents": items}, retry="not_sent")
        return [SupportingDocumentData.from_api(d) for d in data]

    # -- phone numbers (the account's inventory) --------------------------

    def list_phone_numbers(
        self, *, page_size: int | None = None, **filters: Unpack[PhoneNumberFilters]
    ) -> Iterator[PhoneNumberData]:
        """Every number of the account matching the filters, across all pages."""
        query = phone_number_query(filters)
        return self._iterate(
            lambda n: self._page("/phone_numbers", query, PhoneNumberData.from_api, n, page_size)
        )

    def list_phone_numbers_page(
        self,
        *,
        page_number: int = 1,
        page_size: int | None = None,
        **filters: Unpack[PhoneNumberFilters],
    ) -> Page[PhoneNumberData]:
        """One page of the inventory with its meta (the sync stores page by page)."""
        query = phone_number_query(filters)
        return self._page("/phone_numbers", query, PhoneNumberData.from_api, page_number, page_size)

    # -- events -----------------------------------------------------------

    def list_events(
        self, *, page_size: int | None = None, **filters: Unpack[EventFilters]
    ) -> Iterator[EventData]:
        query = _event_query(filters)
        return self._iterate(
            lambda n: self._page("/portouts/events", query, EventData.from_api, n, page_size)
        )

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
        path = f"/portouts/events/{_segment(event_id, 'event_id')}"
        return EventData.from_api(self._get_object("GET", path))

    def republish_event(self, event_id: str) -> None:
        """Ask Telnyx to deliver an event again (204). Safe to retry: it creates no new event."""
        self._send("POST", f"/portouts/events/{_segment(event_id, 'event_id')}/republish")

    # -- reports ----------------------------------------------------------

    def list_reports(
        self, *, page_size: int | None = None, **filters: Unpack[ReportFilters]
    ) -> Iterator[ReportData]:
        query = _report_query(filters)
        return self._iterate(
            lambda n: self._page("/portouts/reports", query, ReportData.from_api, n, page_size)
        )

    def list_reports_page(
        self,
        *,
        page_number: int = 1,
        page_size: int | None = None,
        **filters: Unpack[ReportFilters],
    ) -> Page[ReportData]:
        query = _report_query(filters)
        return self._page("/portouts/reports", query, ReportData.from_api, page_number, page_size)

    def create_report(
        self, *, filters: Mapping[str, Any], report_type: str = "export_portouts_csv"
    ) -> ReportData:
        """Start a report; poll `get_report` until `status == "completed"`.

        `filters` uses the API's keys (status__in, created_at__gt, created_at__lt,
        phone_numbers__overlaps, end_user_name, customer_reference__in); `{}` is
        allowed. Not retried once sent, so one click makes one report.
        """
        body = {"report_type": report_type, "params": {"filters": _jsonable(filters)}}
        data = self._get_object("POST", "/portouts/reports", json=body, retry="not_sent")
        return ReportData.from_api(data)

    def get_report(self, report_id: str) -> ReportData:
        path = f"/portouts/reports/{_segment(report_id, 'report_id')}"
        return ReportData.from_api(self._get_object("GET", path))

    # -- documents --------------------------------------------------------

    def upload_document(
        self,
        *,
        filename: str,
        content: bytes,
        content_type: str,
        customer_reference: str | None = None,
    ) -> DocumentData:
        """Upload a file (multipart) to Telnyx Documents.

        Attach it to a port-out soon: Telnyx deletes documents left unlinked for
        30 minutes. Files over 20 MB are refused here, before any upload.
        """
        if len(content) > MAX_DOCUMENT_BYTES:
            raise DocumentTooLargeError(
                f"{filename!r} is {len(content) / (1024 * 1024):.1f} MB; Telnyx accepts "
                f"documents of at most {MAX_DOCUMENT_BYTES // (1024 * 1024)} MB."
            )
        if not content:
            raise ValueError(f"{filename!r} is empty")
        form = {"customer_reference": customer_reference} if customer_reference else None
        data = self._get_object(
            "POST",
            "/documents",
            files={"file": (filename, content, content_type)},
            data=form,
            retry="not_sent",
        )
        return DocumentData.from_api(data)

    def get_document(self, document_id: str) -> DocumentData:
        path = f"/documents/{_segment(document_id, 'document_id')}"
        return DocumentData.from_api(self._get_object("GET", path))

    def download_document(self, document_id: str) -> bytes:
        """The document's bytes, read into memory (use `stream_document` for big files)."""
        path = f"/documents/{_segment(document_id, 'document_id')}/download"
        response = self._send("GET", path, headers={"Accept": "application/octet-stream"})
        return response.content

    @contextmanager
    def stream_document(
        self, document_id: str, *, chunk_size: int = 64 * 1024
    ) -> Iterator[Iterator[bytes]]:
        """Yield an iterator over the document's bytes without holding it all in memory.

        Opening the download is retried like any GET; a failure mid-stream raises
        `APIConnectionError` (the caller restarts the download if it wants).
        """
        path = f"/documents/{_segment(document_id, 'document_id')}/download"
        response = self._send(
            "GET", path, stream=True, headers={"Accept": "application/octet-stream"}
        )
        try:
            yield self._iter_stream(response, path, chunk_size)
        finally:
            response.close()

    def _iter_stream(self, response: httpx.Response, path: str, chunk_size: int) -> Iterator[bytes]:
        try:
            yield from response.iter_bytes(chunk_size)
        except httpx.RequestError as exc:
            raise self._connection_error(exc, "GET", path, 1, "always") from exc


def _is_text(response: httpx.Response) -> bool:
    ctype = response.headers.get("content-type", "")
    return not ctype or ctype.startswith("text/") or "json" in ctype or "html" in ctype


class _ClientCache:
    """`get_client()`: one `TelnyxClient` per process and settings, built on first use.

    Settings are read at call time (getattr with defaults), so a changed setting
    (e.g. `override_settings` in tests) yields a client built from the new values.
    The pid is part of the key because pooled connections must not be shared
    across a fork (Celery prefork, gunicorn). A client closed by mistake (`with
    get_client():`) is replaced rather than returned.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._clients: dict[tuple[Any, ...], TelnyxClient] = {}

    def __call__(self) -> TelnyxClient:
        from django.conf import settings

        api_key = settings.TELNYX_API_KEY or ""
        base_url = settings.TELNYX_API_BASE_URL or DEFAULT_BASE_URL
        timeout = float(settings.TELNYX_TIMEOUT)
        max_retries = int(settings.TELNYX_MAX_RETRIES)
        # Only a digest of the key goes into the cache key.
        digest = hashlib.sha256(api_key.encode()).hexdigest()
        key = (os.getpid(), digest, base_url, timeout, max_retries)
        with self._lock:
            client = self._clients.get(key)
            if client is None or client.is_closed:
                pid = os.getpid()
                # Forget (without closing) clients inherited from a parent process.
                self._clients = {k: c for k, c in self._clients.items() if k[0] == pid}
                client = TelnyxClient(
                    api_key, base_url=base_url, timeout=timeout, max_retries=max_retries
                )
                self._clients[key] = client
            return client

    def cache_clear(self) -> None:
        """Close and forget this process's clients (tests, settings changes)."""
        with self._lock:
            pid = os.getpid()
            for key, client in self._clients.items():
                if key[0] == pid:
                    client.close()
            self._clients = {}


get_client = _ClientCache()


def reset_client() -> None:
    """Same as `get_client.cache_clear()`."""
    get_client.cache_clear()
