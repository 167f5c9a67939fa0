"""`TelnyxClient`, the API's operations on one transport, and `get_client()`, one shared
instance per process.

The operations live by resource: `portout_calls` (port-outs, rejection codes, comments,
supporting documents), `event_calls`, `report_calls`, `document_calls` (the Documents API)
and `number_calls` (the inventory), each over `transport.Transport` (the pooled session,
retries, errors and paging). This module only puts them together and shares the result.
"""

from __future__ import annotations

import hashlib
import os
import threading
from typing import Any

from .document_calls import DocumentCalls
from .event_calls import EventCalls
from .number_calls import NumberCalls
from .portout_calls import PortoutCalls
from .report_calls import ReportCalls
from .transport import DEFAULT_BASE_URL

__all__ = ["TelnyxClient", "get_client", "reset_client"]


class TelnyxClient(PortoutCalls, EventCalls, ReportCalls, DocumentCalls, NumberCalls):
    """Typed client for the Telnyx port-out API (v2); see `Transport` for its options."""


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
