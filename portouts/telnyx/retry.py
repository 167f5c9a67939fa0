"""Retry policy: which failures are retried, and how long to wait.

Which requests may be repeated
------------------------------
A retry must never create a second comment, a second set of supporting
documents, a second uploaded file or a second report. So:

* **Retried on any transient failure** (connection errors, timeouts, 408, 409,
  429, 5xx): every ``GET``, ``PATCH /portouts/{id}/{status}`` (setting the same
  status twice has the same effect as once) and
  ``POST /portouts/events/{id}/republish`` (re-delivering an event is harmless;
  it creates no new event).
* **Retried only when the request never left this process** (the TCP/TLS
  connection could not be opened, or no pooled connection was free):
  ``POST /portouts/{id}/comments``, ``POST /portouts/{id}/supporting_documents``,
  ``POST /documents`` and ``POST /portouts/reports``. Once such a request may have
  reached Telnyx (read timeout, dropped connection, any HTTP status) the error is
  raised and the caller decides, usually after re-reading the resource.

Waiting
-------
Exponential backoff with full jitter: ``uniform(0, min(max_delay, base * 2**n))``.
A ``Retry-After`` (seconds or HTTP date) or ``retry-after-ms`` header from
Telnyx is honoured, but never beyond ``retry_after_cap`` seconds so a worker or
a web request is not parked for minutes.

``sleep`` below is looked up at call time, so tests can patch
``portouts.telnyx.retry.sleep`` (or pass ``sleep=`` to the client) and never
really wait.
"""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

import httpx

__all__ = ["RetryMode", "RetryPolicy", "parse_retry_after", "sleep"]

#: "always": retried on any transient failure; "not_sent": only when it never left
RetryMode = Literal["always", "not_sent"]

#: patch point for tests; the client resolves it at call time
sleep: Callable[[float], None] = time.sleep

# Raised before any byte of the request was sent: always safe to repeat.
NOT_SENT_ERRORS: tuple[type[Exception], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
)
# Transport failures worth another attempt (a bad URL or protocol misuse is not).
TRANSIENT_ERRORS: tuple[type[Exception], ...] = (
    httpx.TimeoutException,
    httpx.NetworkError,
    httpx.RemoteProtocolError,
)


def parse_retry_after(headers: Mapping[str, str], *, now: float | None = None) -> float | None:
    """Seconds to wait according to `retry-after-ms` / `Retry-After`, or None.

    `Retry-After` may be delta-seconds ("2", also "1.5") or an HTTP date.
    """
    lowered = {k.lower(): v for k, v in headers.items()}
    ms = lowered.get("retry-after-ms")
    if ms:
        try:
            return max(0.0, float(ms) / 1000)
        except ValueError:
            pass
    value = lowered.get("retry-after")
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    parsed = email.utils.parsedate_tz(value)
    if parsed is None:
        return None
    current = time.time() if now is None else now
    return max(0.0, email.utils.mktime_tz(parsed) - current)


@dataclass(frozen=True)
class RetryPolicy:
    """How many times to retry and how long to wait in between."""

    max_retries: int = 3
    base_delay: float = 0.5
    max_delay: float = 8.0
    retry_after_cap: float = 30.0
    rng: random.Random = field(default_factory=random.Random, repr=False, compare=False)

    def delay(self, retry_number: int, headers: Mapping[str, str] | None = None) -> float:
        """Seconds to wait before retry number `retry_number` (0 for the first retry)."""
        if headers:
            retry_after = parse_retry_after(headers)
            if retry_after is not None:
                return min(retry_after, self.retry_after_cap)
        ceiling = min(self.max_delay, self.base_delay * (2 ** min(retry_number, 32)))
        return self.rng.uniform(0, ceiling)

    @staticmethod
    def was_not_sent(exc: Exception) -> bool:
        """True when the request certainly never reached Telnyx."""
        return isinstance(exc, NOT_SENT_ERRORS)

    def may_repeat(self, exc: Exception, mode: RetryMode) -> bool:
        """Whether a transport failure is worth another attempt of a request in `mode`."""
        return isinstance(exc, TRANSIENT_ERRORS) and (mode == "always" or self.was_not_sent(exc))
