"""The transport under every Telnyx call: one pooled `httpx.Client`, retries, errors, the
JSON envelope and paging.

One `Transport` wraps one `httpx.Client`, so connections are pooled. The API key lives only
in the `Authorization` header of that `httpx.Client`: it is kept out of reprs, log lines
(requests are logged at DEBUG without headers) and exception text. Each operation (in the
`*_calls` modules) names its own retry mode beside its request; see
`portouts.telnyx.retry` for which requests are retried and how.
"""

from __future__ import annotations

import copy
import dataclasses
import logging
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Self

import httpx

from . import retry as retry_module
from .errors import (
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    error_class_for_status,
    normalize_errors,
)
from .paging import Page, PageMeta, walk_pages
from .query import encode_query
from .retry import RetryMode, RetryPolicy

__all__ = ["DEFAULT_BASE_URL", "MAX_PAGE_SIZE", "Transport"]

logger = logging.getLogger("portouts.telnyx")

DEFAULT_BASE_URL = "https://api.telnyx.com/v2"
MAX_PAGE_SIZE = 250


class Transport:
    """Session, retries and envelopes shared by the operations of `TelnyxClient`.

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
            f"{type(self).__name__}(base_url={self.base_url!r}, timeout={self.timeout!r}, "
            f"max_retries={self.max_retries!r})"
        )

    def with_options(
        self,
        *,
        timeout: float | None = None,
        max_retries: int | None = None,
        retry_after_cap: float | None = None,
    ) -> Self:
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

    def __enter__(self) -> Self:
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
                logger.debug(
                    "Telnyx %s %s failed: %s (attempt %d of %d)",
                    *(method, path, type(exc).__name__, attempt, attempts),
                )
                if policy.may_repeat(exc, retry) and attempt < attempts:
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

    def _listing[T](
        self,
        path: str,
        filters: Mapping[str, Any],
        parse: Callable[[dict[str, Any]], T],
        page_size: int | None,
    ) -> Iterator[T]:
        """Every item of a listing, page after page, fetched as the caller reads."""
        for page in walk_pages(lambda n: self._page(path, filters, parse, n, page_size)):
            yield from page.data


def _is_text(response: httpx.Response) -> bool:
    ctype = response.headers.get("content-type", "")
    return not ctype or ctype.startswith("text/") or "json" in ctype or "html" in ctype
