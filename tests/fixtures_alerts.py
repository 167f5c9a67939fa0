"""Fixtures for alerts: a real SMTP server (aiosmtpd on a free loopback port), a real HTTP
receiver for webhook channels, channels and rules, and e-mail settings pointed at the server.

- `smtp_server`: `.messages` (envelopes received), `.reply` (e.g. "550 No such user" to
  refuse), `.hold` (a threading.Event; when set the server stops in DATA until it is
  cleared, and `.holding` is set meanwhile), `.wait_for(n)`.
- `http_receiver`: `.url`, `.received` (bodies), `.statuses` (scripted answers), `.delay`
  (seconds before answering), `.wait_for(n)`.
- `alert_settings`: MAILERS (and EMAIL_HOST/EMAIL_PORT) at the SMTP server (also in os.environ, for
  worker processes), fast retries (backoff 0), timeouts of 1 s.
- `mailbox`: `smtp_server` with `alert_settings` applied; `.mails(n)` parses what arrived.
- `make_channel(kind, target)`, `make_rule(kind, channels=..., users=..., **fields)`.
"""

from __future__ import annotations

import asyncio
import email
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class SmtpServer:
    port: int = 0
    messages: list[Any] = field(default_factory=list)
    reply: str = "250 Message accepted"
    hold: threading.Event = field(default_factory=threading.Event)
    holding: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    cond: threading.Condition = field(default_factory=threading.Condition)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        # The whole message has arrived: it counts as received, whether or not the client
        # is still there to read the reply (a held one may be killed meanwhile).
        with self.cond:
            if self.reply.startswith("250"):
                self.messages.append(envelope)
            self.cond.notify_all()
        if self.hold.is_set():
            self.holding.set()
            await asyncio.to_thread(self.release.wait, 30)
        return self.reply

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Any]:
        with self.cond:
            self.cond.wait_for(lambda: len(self.messages) >= count, timeout=timeout)
            return list(self.messages)

    def texts(self) -> list[str]:
        return [m.content.decode(errors="replace") for m in self.messages]

    def mails(self, count: int = 1, timeout: float = 10.0) -> list[Message]:
        """The messages received, parsed, once at least `count` have arrived."""
        return [email.message_from_bytes(e.original_content) for e in self.wait_for(count, timeout)]


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer(port=free_port())
    controller = Controller(server, hostname="127.0.0.1", port=server.port)
    controller.start()
    yield server
    server.release.set()
    controller.stop()


@dataclass
class HttpReceiver:
    url: str = ""
    received: list[bytes] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    delay: float = 0.0
    cond: threading.Condition = field(default_factory=threading.Condition)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[bytes]:
        with self.cond:
            self.cond.wait_for(lambda: len(self.received) >= count, timeout=timeout)
            return list(self.received)

    def payloads(self) -> list[dict[str, Any]]:
        return [json.loads(b) for b in self.received]


@pytest.fixture
def http_receiver() -> Iterator[HttpReceiver]:
    receiver = HttpReceiver()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if receiver.delay:
                time.sleep(receiver.delay)
            with receiver.cond:
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                if status < 300:
                    receiver.received.append(body)
                receiver.cond.notify_all()
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.1})
    thread.start()
    receiver.url = f"http://127.0.0.1:{httpd.server_address[1]}/hooks/porting"
    yield receiver
    httpd.shutdown()
    httpd.server_close()
    thread.join()


@pytest.fixture
def alert_settings(settings: Any, smtp_server: SmtpServer, monkeypatch: Any) -> Any:
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": smtp_server.port, "timeout": 2},
        }
    }
    settings.ALERTS_SEND_TIMEOUT = 1
    settings.ALERTS_RETRY_BACKOFF = 0
    settings.ALERTS_MAX_ATTEMPTS = 3
    for name, value in {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(smtp_server.port),
    }.items():
        monkeypatch.setenv(name, value)
    return settings


@pytest.fixture
def mailbox(alert_settings: Any, smtp_server: SmtpServer) -> SmtpServer:
    """The SMTP server with Django's default mailer pointed at it."""
    return smtp_server


@pytest.fixture
def make_channel(db: Any) -> Callable[..., Any]:
    from portouts.alerts.channels import channel_save
    from portouts.models import AlertChannel

    def make(kind: str, target: str, name: str = "") -> AlertChannel:
        return channel_save(AlertChannel(name=name or f"{kind}-{target[-6:]}", kind=kind), target)

    return make


@pytest.fixture
def make_rule(db: Any) -> Callable[..., Any]:
    from portouts.choices import RouteRole
    from portouts.models import AlertRoute, AlertRule

    def make(
        kind: str,
        *,
        channels: list[Any] = (),  # type: ignore[assignment]
        users: list[Any] = (),  # type: ignore[assignment]
        after_hours: list[Any] = (),  # type: ignore[assignment]
        tiers: list[tuple[int, list[Any]]] = (),  # type: ignore[assignment]
        **fields: Any,
    ) -> AlertRule:
        rule = AlertRule.objects.create(name=f"rule {kind}", kind=kind, **fields)

        def route(role: str, position: int, members: list[Any], delay: int = 0) -> None:
            r = AlertRoute.objects.create(
                rule=rule, role=role, position=position, delay_minutes=delay
            )
            r.channels.set([m for m in members if m.__class__.__name__ == "AlertChannel"])
            r.users.set([m for m in members if m.__class__.__name__ != "AlertChannel"])

        route(RouteRole.PRIMARY, 0, [*channels, *users])
        if after_hours:
            route(RouteRole.AFTER_HOURS, 0, list(after_hours))
        for position, (delay, members) in enumerate(tiers, start=1):
            route(RouteRole.TIER, position, members, delay)
        return rule

    return make
