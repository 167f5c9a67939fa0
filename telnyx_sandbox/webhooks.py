"""Signed webhook delivery, the way Telnyx sends them.

Each event is POSTed as `{"data": {id, event_type, occurred_at, payload, record_type:
"event"}, "meta": {attempt, delivered_to}}` with headers `telnyx-signature-ed25519`
(base64 Ed25519 signature of `f"{timestamp}|{raw body}"`) and `telnyx-timestamp` (unix
seconds). A background thread delivers and retries failures (non-2xx, timeouts,
refused connections) with exponential backoff, re-signing every attempt.
"""

from __future__ import annotations

import base64
import heapq
import itertools
import json
import logging
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from .entities import Event
from .state import SandboxState

__all__ = ["DeliveryAttempt", "WebhookDispatcher", "load_private_key"]

logger = logging.getLogger(__name__)


def load_private_key(private_key_b64: str | None) -> Ed25519PrivateKey:
    """A key from base64 of the raw 32-byte seed, or a freshly generated one."""
    if not private_key_b64:
        return Ed25519PrivateKey.generate()
    raw = base64.b64decode(private_key_b64)
    if len(raw) != 32:
        raise ValueError("the private key must be base64 of 32 raw bytes")
    return Ed25519PrivateKey.from_private_bytes(raw)


@dataclass(frozen=True)
class DeliveryAttempt:
    event_id: str
    event_type: str
    attempt: int
    url: str
    status_code: int | None
    error: str | None
    at: float

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class WebhookDispatcher:
    """Queue + worker thread that signs and POSTs events to `url` (None disables delivery)."""

    def __init__(
        self,
        state: SandboxState,
        *,
        private_key: Ed25519PrivateKey,
        url: str | None = None,
        max_attempts: int = 4,
        backoff: float = 0.5,
        timeout: float = 5.0,
    ) -> None:
        self.state = state
        self._key = private_key
        self.url = url
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.timeout = timeout
        self.deliveries: list[DeliveryAttempt] = []
        self._heap: list[tuple[float, int, dict[str, Any], int, str]] = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._busy = 0
        self._thread: threading.Thread | None = None
        self._stopping = False

    @property
    def public_key_b64(self) -> str:
        raw = self._key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        return base64.b64encode(raw).decode()

    def sign(self, body: bytes, timestamp: str) -> str:
        return base64.b64encode(self._key.sign(timestamp.encode() + b"|" + body)).decode()

    def signed_request(
        self, data: dict[str, Any], *, attempt: int, url: str
    ) -> tuple[bytes, dict[str, str]]:
        """Body and headers of one delivery attempt."""
        envelope = {"data": data, "meta": {"attempt": attempt, "delivered_to": url}}
        body = json.dumps(envelope, separators=(",", ":")).encode()
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "telnyx-sandbox-webhooks/1.0",
            "telnyx-signature-ed25519": self.sign(body, timestamp),
            "telnyx-timestamp": timestamp,
        }
        return body, headers

    # ------------------------------------------------------------------ queue

    def enqueue(self, event: Event) -> None:
        """State listener: schedule delivery of `event` now (no-op without a URL)."""
        url = self.url
        if not url:
            return
        data = self.state.webhook_data(event)
        with self._cond:
            heapq.heappush(self._heap, (time.monotonic(), next(self._seq), data, 1, url))
            self._cond.notify()

    def clear(self) -> None:
        with self._cond:
            self._heap.clear()
            self.deliveries.clear()

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Block until nothing is queued or in flight (retries included)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._heap or self._busy:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(remaining)
            return True

    def start(self) -> None:
        if self._thread is None:
            self._stopping = False
            self._thread = threading.Thread(
                target=self._run, name="telnyx-sandbox-webhooks", daemon=True
            )
            self._thread.start()

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    # ------------------------------------------------------------------ worker

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stopping:
                    if self._heap:
                        wait = self._heap[0][0] - time.monotonic()
                        if wait <= 0:
                            break
                        self._cond.wait(wait)
                    else:
                        self._cond.wait()
                if self._stopping:
                    return
                _, _, data, attempt, url = heapq.heappop(self._heap)
                self._busy += 1
            try:
                result = self._deliver(data, attempt, url)
                with self._cond:
                    self.deliveries.append(result)
                    if not result.ok and attempt < self.max_attempts:
                        due = time.monotonic() + self.backoff * 2 ** (attempt - 1)
                        heapq.heappush(self._heap, (due, next(self._seq), data, attempt + 1, url))
            finally:
                with self._cond:
                    self._busy -= 1
                    self._cond.notify_all()

    def _deliver(self, data: dict[str, Any], attempt: int, url: str) -> DeliveryAttempt:
        body, headers = self.signed_request(data, attempt=attempt, url=url)
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        status: int | None = None
        error: str | None = None
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                status = response.status
        except urllib.error.HTTPError as exc:
            status = exc.code
        except (OSError, ValueError) as exc:
            error = f"{type(exc).__name__}: {exc}"
        if status is None or not 200 <= status < 300:
            logger.info(
                "webhook %s attempt %s to %s failed: %s", data["id"], attempt, url, status or error
            )
        return DeliveryAttempt(
            event_id=data["id"],
            event_type=data["event_type"],
            attempt=attempt,
            url=url,
            status_code=status,
            error=error,
            at=time.time(),
        )
