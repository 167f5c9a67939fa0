"""The sandbox as a running server: its parts, its threads and its lifecycle.

`SandboxServer(...).start()` binds a `ThreadingHTTPServer` (port 0 = a free port), starts
the scheduler, webhook and optional traffic threads and returns the base URL ending in
`/v2`. `.stop()` shuts everything down. Tests use it in-process; the management command
runs it in the foreground. Requests are read and answered in `http_handler.py`, routed in
`routes.py` to the handlers per resource (`api_*.py`); the data and its rules are behind
`SandboxState`.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from .customers import write_customers_csv
from .faults import FaultInjector
from .http_handler import RequestHandler, SandboxHTTPServer
from .seed import seed_state
from .state import SandboxState
from .traffic import TrafficGenerator
from .webhooks import WebhookDispatcher, load_private_key

__all__ = ["SandboxServer"]

logger = logging.getLogger(__name__)


class SandboxServer:
    """A local Telnyx port-out API. All options can also be changed on the live object:
    `webhook_url`, `faults.configure(...)`, `state.reject_delay`, `state.report_delay`,
    `state.authorize_after` (seconds; `authorize_after_hours` sets it at construction)."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        seed_count: int = 60,
        seed: int = 1,
        api_key: str | None = None,
        webhook_url: str | None = None,
        private_key_b64: str | None = None,
        report_delay: float = 3.0,
        reject_delay: float = 30.0,
        authorize_after_hours: float = 24.0,
        traffic_interval: float | None = None,
        traffic_seed: int | None = None,
        webhook_max_attempts: int = 4,
        webhook_backoff: float = 0.5,
        webhook_timeout: float = 5.0,
        public_url: str | None = None,
        tick_interval: float = 1.0,
        warm_cache: bool = True,
        **fault_options: Any,
    ) -> None:
        self.faults = FaultInjector.from_options(fault_options)
        self.host = host
        self.port = port
        self.seed_count = seed_count
        self.seed = seed
        self.api_key = api_key
        self._initial_api_key = api_key
        self.public_url = public_url
        self.tick_interval = tick_interval
        self.warm = warm_cache
        self.state = SandboxState(
            reject_delay=reject_delay,
            report_delay=report_delay,
            authorize_after=authorize_after_hours * 3600.0,
        )
        self.webhooks = WebhookDispatcher(
            self.state,
            private_key=load_private_key(private_key_b64),
            url=webhook_url,
            max_attempts=webhook_max_attempts,
            backoff=webhook_backoff,
            timeout=webhook_timeout,
        )
        self.state.listeners.append(self.webhooks.enqueue)
        self.traffic = (
            TrafficGenerator(self.state, interval=traffic_interval, seed=traffic_seed)
            if traffic_interval
            else None
        )
        #: (method, path, status) of recent requests, newest last ("drop" for dropped ones)
        self.requests: collections.deque[tuple[str, str, int | str]] = collections.deque(
            maxlen=5000
        )
        self._httpd: SandboxHTTPServer | None = None
        self._threads: list[threading.Thread] = []
        self._stop = threading.Event()
        self._inflight = 0
        self._inflight_cond = threading.Condition()
        seed_state(self.state, seed_count, seed)

    # ------------------------------------------------------------------ lifecycle

    @property
    def public_key_b64(self) -> str:
        return self.webhooks.public_key_b64

    @property
    def webhook_url(self) -> str | None:
        return self.webhooks.url

    @webhook_url.setter
    def webhook_url(self, value: str | None) -> None:
        self.webhooks.url = value

    @property
    def root_url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("the sandbox is not running")
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        return self.root_url + "/v2"

    def start(self) -> str:
        """Bind, start serving in background threads, return the base URL (…/v2)."""
        handler = type("BoundHandler", (RequestHandler,), {"sandbox": self})
        self._httpd = SandboxHTTPServer((self.host, self.port), handler)
        self.port = self._httpd.server_address[1]
        self.state.public_root = self.public_url or self.root_url
        self._stop.clear()
        serve = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.2},
            name="telnyx-sandbox-http",
            daemon=True,
        )
        ticker = threading.Thread(target=self._tick, name="telnyx-sandbox-clock", daemon=True)
        self._threads = [serve, ticker]
        if self.warm:
            self._threads.append(
                threading.Thread(target=self._warm, name="telnyx-sandbox-warm", daemon=True)
            )
        for thread in self._threads:
            thread.start()
        self.webhooks.start()
        if self.traffic is not None:
            self.traffic.start()
        return self.base_url

    def stop(self) -> None:
        self._stop.set()
        if self.traffic is not None:
            self.traffic.stop()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        self.webhooks.stop()
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads = []
        self._httpd = None

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Wait until no request is being handled (e.g. one sleeping in a slow fault)."""
        with self._inflight_cond:
            return self._inflight_cond.wait_for(lambda: self._inflight == 0, timeout=timeout)

    def request_stop(self) -> None:
        """Make `serve_forever` return (safe from a signal handler)."""
        self._stop.set()

    def serve_forever(self) -> None:
        """Run until interrupted (the management command's foreground mode)."""
        if self._httpd is None:
            self.start()
        try:
            while not self._stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()

    def __enter__(self) -> SandboxServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def write_customers(self, path: str) -> int:
        """Write the seeded customers as the CSV the dashboard's demo imports; returns the
        number of rows."""
        return write_customers_csv(self.state.customers(), path)

    def reset(self, *, seed_count: int | None = None, seed: int | None = None) -> None:
        """Fresh seeded data, no faults, no webhook URL, empty logs (used between tests)."""
        self.faults.reset()
        self.webhooks.url = None
        self.webhooks.clear()
        self.requests.clear()
        self.api_key = self._initial_api_key
        seed_state(
            self.state,
            self.seed_count if seed_count is None else seed_count,
            self.seed if seed is None else seed,
        )

    def _tick(self) -> None:
        while not self._stop.wait(self.tick_interval):
            try:
                self.state.advance()
            except Exception:  # pragma: no cover - keep the clock alive
                logger.exception("sandbox scheduler failed")

    def _warm(self) -> None:
        """Pre-serialise every port-out in small locked chunks so even first pages are fast."""
        ids = list(self.state.portouts)
        for start in range(0, len(ids), 500):
            if self._stop.is_set():
                return
            with self.state.lock:
                for pid in ids[start : start + 500]:
                    po = self.state.portouts.get(pid)
                    if po is not None:
                        self.state.portout_json(po)
            time.sleep(0)

    @contextmanager
    def handling(self) -> Iterator[None]:
        """Count a request in flight for as long as it is handled (see `wait_idle`)."""
        with self._inflight_cond:
            self._inflight += 1
        try:
            yield
        finally:
            with self._inflight_cond:
                self._inflight -= 1
                self._inflight_cond.notify_all()
