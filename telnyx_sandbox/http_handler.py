"""The HTTP side of the sandbox: reading a request off the socket, the faults, the answer.

`RequestHandler` reads the request, applies the fault the injector decides on arrival
(latency, a drop, a slow reply, a 429 or a 5xx), checks the API key, hands the rest to
`routes.dispatch` and writes the `Response`. Every method gets an answer in Telnyx's
JSON error shape, never http.server's HTML pages.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import socket
import time
import traceback
import uuid
from contextlib import AbstractContextManager
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import urlsplit

from . import routes
from .api_files import serve_file
from .entities import dumps
from .errors import MethodNotAllowed, SandboxError, error_body
from .faults import FaultInjector
from .params import Query
from .state import SandboxState
from .wire import Response, error_response

__all__ = ["RequestHandler", "SandboxHTTPServer", "Served"]

logger = logging.getLogger(__name__)


class Served(Protocol):
    """What a request needs of the running sandbox (`SandboxServer`)."""

    state: SandboxState
    api_key: str | None
    faults: FaultInjector
    requests: collections.deque[tuple[str, str, int | str]]

    def handling(self) -> AbstractContextManager[None]: ...


class SandboxHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


class RequestHandler(BaseHTTPRequestHandler):
    sandbox: Served
    protocol_version = "HTTP/1.1"
    server_version = "TelnyxSandbox/1.0"

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        logger.debug("%s - %s", self.address_string(), format % args)

    def __getattr__(self, name: str) -> Any:
        """`do_<METHOD>` for every method, so the router answers each one (a 405 or 404
        in Telnyx's shape) instead of http.server's HTML 501 page."""
        if name.startswith("do_") and name[3:].isalpha():
            return lambda: self._handle(name[3:].upper())
        raise AttributeError(name)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's own refusals (malformed request line, header too long, ...) in
        Telnyx's JSON error shape instead of its HTML page."""
        error = SandboxError(
            "10041", message or HTTPStatus(code).phrase, status=code, title=HTTPStatus(code).phrase
        )
        self.close_connection = True
        body = dumps(error_body(error))
        try:
            self.send_response(code, message)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD" and code >= 200 and code not in (204, 304):
                self.wfile.write(body)
        except OSError:
            pass

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _handle(self, method: str) -> None:
        with self.sandbox.handling():
            self._handle_counted(method)

    def _handle_counted(self, method: str) -> None:
        sandbox = self.sandbox
        split = urlsplit(self.path)
        path = split.path
        body = self._read_body()
        if path.startswith("/files/"):
            self._send(self._file(method, path))
            return
        if not (path == "/v2" or path.startswith("/v2/")):
            error = SandboxError("10005", f"No route for {path}; the API is under /v2.")
            self._send(error_response(error))
            return
        # decide on arrival, so a request still sleeping never consumes a later roll
        fault = sandbox.faults.decide()
        if sandbox.faults.latency_seconds:
            time.sleep(sandbox.faults.latency_seconds)
        if fault == "drop":
            sandbox.requests.append((method, path, "drop"))
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        if fault == "slow":
            time.sleep(sandbox.faults.config.slow_seconds)
        response = self._answer(fault, method, path[3:] or "/", Query(split.query), body)
        sandbox.requests.append((method, path, response.status))
        self._send(response)

    def _file(self, method: str, path: str) -> Response:
        try:
            if method not in ("GET", "HEAD"):
                raise MethodNotAllowed(method, path, ["GET"])
            return serve_file(self.sandbox.state, path)
        except SandboxError as err:
            return error_response(err)

    def _answer(
        self, fault: str | None, method: str, path: str, query: Query, body: bytes
    ) -> Response:
        """The injected error when `fault` is one, else the handler's answer."""
        sandbox = self.sandbox
        injected = sandbox.faults.error_for(fault)
        if injected is not None:
            return error_response(*injected)
        try:
            routes.authenticate(sandbox.api_key, self.headers)
            return routes.dispatch(sandbox.state, method, path, query, self.headers, body)
        except SandboxError as err:
            return error_response(err)
        except Exception:
            logger.error("sandbox request failed:\n%s", traceback.format_exc())
            return error_response(SandboxError("10007", "The sandbox hit an unexpected error."))

    def _send(self, response: Response) -> None:
        try:
            self._write(response)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (e.g. its timeout expired)

    def _write(self, response: Response) -> None:
        self.send_response(response.status)
        self.send_header("x-request-id", str(uuid.uuid4()))
        if response.status != 204:
            self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if response.body and self.command != "HEAD":
            self.wfile.write(response.body)
