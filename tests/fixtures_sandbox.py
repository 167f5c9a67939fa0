"""Fixtures around the in-process Telnyx sandbox (telnyx_sandbox), reusable by any test.

- `sandbox`: a running SandboxServer reset to 60 freshly seeded port-outs, no faults, no
  webhook URL. Attributes: `base_url` (…/v2), `api_key` (None = any non-empty key works),
  `public_key_b64`, `state` (SandboxState: `create_portout`, `add_comment`, `change_status`,
  `change_foc_date`, `advance`, ...), `faults` (`configure(...)`, `queue("429", ...)`,
  `counts`), `webhook_url`, `webhooks` (`deliveries`, `wait_idle()`), `requests` log.
  Reports complete on the next request (report_delay 0); rejected-pending stays until
  `state.advance(now=...)` passes the one-hour review delay. A pending port-out is
  authorized by Telnyx 24 h after creation (`state.authorize_after`): one created with
  `created_at` in the past is authorized on the next tick unless `authorize_at=` (a
  datetime) is given too. `state.inventory` holds the numbers and customers;
  `state.bounce_rejection(id)` sends a rejection back to pending.
- `sandbox_settings`: Django settings pointed at the sandbox (TELNYX_API_BASE_URL,
  TELNYX_API_KEY, TELNYX_PUBLIC_KEY) with the shared Telnyx client cache cleared.
- `webhook_receiver`: a loopback HTTP endpoint recording deliveries; set `.statuses` to
  script its answers (e.g. [500, 200]).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from telnyx_sandbox.server import SandboxServer

SANDBOX_SEED_COUNT = 60
SANDBOX_SEED = 7
SANDBOX_API_KEY = "KEYsandbox_test_key"


@pytest.fixture(scope="session")
def _sandbox_server() -> Iterator[SandboxServer]:
    server = SandboxServer(
        seed_count=SANDBOX_SEED_COUNT,
        seed=SANDBOX_SEED,
        report_delay=0,
        reject_delay=3600,
        webhook_backoff=0.02,
        webhook_timeout=2.0,
        tick_interval=0.2,
        warm_cache=False,
    )
    server.start()
    yield server
    server.stop()


@pytest.fixture
def sandbox(_sandbox_server: SandboxServer) -> Iterator[SandboxServer]:
    server = _sandbox_server
    server.reset()
    server.state.report_delay = 0
    server.state.reject_delay = 3600
    yield server
    server.faults.reset()
    server.webhook_url = None
    server.wait_idle(timeout=5)
    server.webhooks.wait_idle(timeout=2)


@pytest.fixture
def sandbox_settings(settings: Any, sandbox: SandboxServer) -> SandboxServer:
    settings.TELNYX_API_BASE_URL = sandbox.base_url
    settings.TELNYX_API_KEY = SANDBOX_API_KEY
    settings.TELNYX_PUBLIC_KEY = sandbox.public_key_b64
    try:
        from portouts.telnyx import get_client
    except ImportError:  # pragma: no cover - client package not importable
        return sandbox
    get_client.cache_clear()
    return sandbox


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class WebhookReceiver:
    url: str = ""
    received: list[Received] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    cond: threading.Condition = field(default_factory=threading.Condition)

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Received]:
        with self.cond:
            self.cond.wait_for(lambda: len(self.received) >= count, timeout=timeout)
            return list(self.received)


@pytest.fixture
def webhook_receiver() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with receiver.cond:
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                receiver.received.append(Received(self.path, dict(self.headers.items()), body))
                receiver.cond.notify_all()
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.1})
    thread.start()
    receiver.url = f"http://127.0.0.1:{httpd.server_address[1]}/webhooks/telnyx"
    yield receiver
    httpd.shutdown()
    httpd.server_close()
    thread.join()
