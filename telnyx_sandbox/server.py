"""HTTP front of the sandbox: routing, auth, Telnyx error bodies, faults, lifecycle.

`SandboxServer(...).start()` binds a `ThreadingHTTPServer` (port 0 = a free port), starts
the scheduler, webhook and optional traffic threads and returns the base URL ending in
`/v2`. `.stop()` shuts everything down. Tests use it in-process; the management command
runs it in the foreground. It is long because it holds one short handler per Telnyx
operation (the 14 port-out calls and the Documents API) beside the lifecycle and the
request handler they share; the data and its rules are behind `SandboxState`.
"""

from __future__ import annotations

import collections
import contextlib
import email.parser
import email.policy
import json
import logging
import re
import socket
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

from .customers import write_customers_csv
from .entities import (
    ACCOUNT_USER_ID,
    EVENT_TYPES,
    REPORT_STATUSES,
    REPORT_TYPES,
    STATUSES,
    dumps,
)
from .errors import MethodNotAllowed, SandboxError, error_body
from .faults import FAULT_OPTIONS, FaultInjector
from .filters import PortoutFilter
from .numbers import number_filter
from .params import Query
from .seed import lsr_pdf, seed_state
from .state import SandboxState
from .traffic import TrafficGenerator
from .webhooks import WebhookDispatcher, load_private_key

__all__ = ["SandboxServer"]

logger = logging.getLogger(__name__)

PORTOUT_FILTERS = (
    "filter[carrier_name]",
    "filter[pon]",
    "filter[spid]",
    "filter[status]",
    "filter[status_in]",
    "filter[country_code]",
    "filter[country_code_in]",
    "filter[ported_out_at][gte]",
    "filter[ported_out_at][lte]",
    "filter[inserted_at][gte]",
    "filter[inserted_at][lte]",
    "filter[foc_date]",
    "filter[phone_number]",
    "filter[support_key]",
)
EVENT_FILTERS = (
    "filter[event_type]",
    "filter[portout_id]",
    "filter[created_at][gte]",
    "filter[created_at][lte]",
)
REPORT_FILTERS = ("filter[report_type]", "filter[status]")
COUNTRY = r"[A-Za-z]{2}"


class Response:
    __slots__ = ("body", "content_type", "headers", "status")

    def __init__(
        self,
        status: int,
        body: bytes = b"",
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
    ) -> None:
        self.status = status
        self.body = body
        self.content_type = content_type
        self.headers = headers or {}


def _json(status: int, obj: Any) -> Response:
    return Response(status, dumps(obj))


def _data(obj: Any, status: int = 200) -> Response:
    return _json(status, {"data": obj})


def _list(items: list[bytes], meta: dict[str, int] | None) -> Response:
    body = b'{"data":[' + b",".join(items) + b"]"
    if meta is not None:
        body += b',"meta":' + dumps(meta)
    return Response(200, body + b"}")


def _error(err: SandboxError, headers: dict[str, str] | None = None) -> Response:
    if isinstance(err, MethodNotAllowed):
        headers = {**(headers or {}), "Allow": ", ".join(err.allowed)}
    return Response(err.status, dumps(error_body(err)), headers=headers)


Handler = Callable[["Request"], Response]


class Request:
    __slots__ = ("body", "content_type", "headers", "method", "params", "path", "query")

    def __init__(
        self,
        method: str,
        path: str,
        query: Query,
        headers: Any,
        body: bytes,
        params: dict[str, str],
    ) -> None:
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.params = params
        self.content_type = (headers.get("Content-Type") or "").lower()

    def json(self) -> dict[str, Any]:
        if not self.body.strip():
            raise SandboxError("10001", "The request body must be a JSON object.", status=400)
        try:
            value = json.loads(self.body)
        except ValueError:
            raise SandboxError("10001", "The request body is not valid JSON.", status=400) from None
        if not isinstance(value, dict):
            raise SandboxError("10001", "The request body must be a JSON object.", status=400)
        return value


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
        unknown = set(fault_options) - set(FAULT_OPTIONS) - {"fault_seed"}
        if unknown:
            raise TypeError(f"unknown options: {', '.join(sorted(unknown))}")
        if "fault_seed" in fault_options:
            fault_options["seed"] = fault_options.pop("fault_seed")
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
        self.faults = FaultInjector(**fault_options)
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
        self._httpd: ThreadingHTTPServer | None = None
        self._threads: list[threading.Thread] = []
        self._stop = threading.Event()
        self._routes = self._build_routes()
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
        handler = type("BoundHandler", (_Handler,), {"sandbox": self})
        self._httpd = _Server((self.host, self.port), handler)
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

    # ------------------------------------------------------------------ routing

    def _build_routes(self) -> list[tuple[str, re.Pattern[str], Handler]]:
        seg = r"(?P<id>[^/]+)"
        table: list[tuple[str, str, Handler]] = [
            ("GET", r"/portouts", self.list_portouts),
            ("GET", r"/portouts/events", self.list_events),
            ("GET", rf"/portouts/events/{seg}", self.get_event),
            ("POST", rf"/portouts/events/{seg}/republish", self.republish_event),
            ("GET", r"/portouts/reports", self.list_reports),
            ("POST", r"/portouts/reports", self.create_report),
            ("GET", rf"/portouts/reports/{seg}", self.get_report),
            ("GET", rf"/portouts/rejections/{seg}", self.list_rejections),
            ("GET", rf"/portouts/{seg}", self.get_portout),
            ("GET", rf"/portouts/{seg}/comments", self.list_comments),
            ("POST", rf"/portouts/{seg}/comments", self.create_comment),
            ("GET", rf"/portouts/{seg}/supporting_documents", self.list_supporting_documents),
            ("POST", rf"/portouts/{seg}/supporting_documents", self.create_supporting_documents),
            ("PATCH", rf"/portouts/{seg}/(?P<status>[^/]+)", self.update_status),
            ("POST", r"/documents", self.create_document),
            ("GET", rf"/documents/{seg}", self.get_document),
            ("GET", rf"/documents/{seg}/download", self.download_document),
            ("GET", rf"/documents/{seg}/download_link", self.document_download_link),
            ("GET", r"/phone_numbers", self.list_phone_numbers),
            ("GET", rf"/phone_numbers/{seg}", self.get_phone_number),
        ]
        return [(method, re.compile(pattern + "/?"), fn) for method, pattern, fn in table]

    def dispatch(self, method: str, path: str, query: Query, headers: Any, body: bytes) -> Response:
        """The handler of (method, path); HEAD is answered as GET without the body. A path
        no route takes is a 404, a method the path does not take a 405 naming the ones it
        does (in an `Allow` header too), both in Telnyx's error shape."""
        wanted = "GET" if method == "HEAD" else method
        allowed: list[str] = []
        for route_method, pattern, fn in self._routes:
            match = pattern.fullmatch(path)
            if match is None:
                continue
            if route_method != wanted:
                allowed.append(route_method)
                continue
            params = {k: unquote(v) for k, v in match.groupdict().items()}
            return fn(Request(method, path, query, headers, body, params))
        if allowed:
            raise MethodNotAllowed(method, "/v2" + path, allowed)
        raise SandboxError("10005", f"No route for {method} /v2{path}.")

    def authenticate(self, headers: Any) -> None:
        auth = headers.get("Authorization") or ""
        scheme, _, key = auth.partition(" ")
        key = key.strip()
        if scheme.lower() != "bearer" or not key:
            raise SandboxError(
                "10009", "Missing or malformed 'Authorization: Bearer <API key>' header."
            )
        if self.api_key and key != self.api_key:
            raise SandboxError("10009", "The API key is not valid.")

    # ------------------------------------------------------------------ port-outs

    def list_portouts(self, req: Request) -> Response:
        q = req.query
        q.check_filters(PORTOUT_FILTERS)
        page, size = q.page()
        status = q.get_enum("filter[status]", STATUSES)
        status_in = q.get_enum_list("filter[status_in]", STATUSES)
        statuses: list[str] | None = None
        if status is not None and status_in is not None:
            statuses = [s for s in status_in if s == status]
        elif status is not None:
            statuses = [status]
        elif status_in is not None:
            statuses = status_in
        country = q.get_pattern("filter[country_code]", COUNTRY, "a 2-letter country code")
        countries = q.get_list("filter[country_code_in]")
        for code in countries or ():
            if not re.fullmatch(COUNTRY, code):
                raise SandboxError(
                    "10016",
                    f"'{code}' is not a 2-letter country code.",
                    parameter="filter[country_code_in]",
                )
        if country is not None:
            countries = [c for c in (countries or [country]) if c.upper() == country.upper()]
        foc = q.get_datetime("filter[foc_date]")
        flt = PortoutFilter(
            statuses=statuses,
            carrier_name=q.get("filter[carrier_name]"),
            spid=q.get("filter[spid]"),
            pon=q.get("filter[pon]"),
            phone_number=q.get("filter[phone_number]"),
            support_key=q.get("filter[support_key]"),
            country_codes=countries,
            foc_date=None if foc is None else time.strftime("%Y-%m-%d", time.gmtime(foc)),
            inserted_gte=q.get_datetime("filter[inserted_at][gte]"),
            inserted_lte=q.get_datetime("filter[inserted_at][lte]"),
            ported_gte=q.get_datetime("filter[ported_out_at][gte]"),
            ported_lte=q.get_datetime("filter[ported_out_at][lte]"),
        )
        items, meta = self.state.list_portouts(flt, page, size)
        return _list(items, meta)

    def get_portout(self, req: Request) -> Response:
        with self.state.lock:
            self.state.advance()
            po = self.state.get_portout(req.params["id"])
            return Response(200, b'{"data":' + self.state.portout_json(po) + b"}")

    def update_status(self, req: Request) -> Response:
        body = req.json()
        with self.state.lock:
            po = self.state.update_status(req.params["id"], req.params["status"], body=body)
            return Response(200, b'{"data":' + self.state.portout_json(po) + b"}")

    def list_rejections(self, req: Request) -> Response:
        q = req.query
        q.check_filters(("filter[code]", "filter[code][in]"))
        raw = (q.get_list("filter[code]") or []) + (q.get_list("filter[code][in]") or [])
        codes: list[int] | None = None
        if q.values.get("filter[code]") is not None or q.values.get("filter[code][in]") is not None:
            codes = []
            for value in raw:
                try:
                    codes.append(int(value))
                except ValueError:
                    raise SandboxError(
                        "10016", f"'{value}' is not an integer code.", parameter="filter[code]"
                    ) from None
        return _data(self.state.rejection_codes(req.params["id"], codes))

    def list_comments(self, req: Request) -> Response:
        comments = self.state.list_comments(req.params["id"])
        meta = {
            "page_number": 1,
            "page_size": max(len(comments), 1),
            "total_pages": 1,
            "total_results": len(comments),
        }
        return _json(200, {"data": [c.to_dict() for c in comments], "meta": meta})

    def create_comment(self, req: Request) -> Response:
        body = req.json()
        text = body.get("body")
        if text is not None and not isinstance(text, str):
            raise SandboxError("10016", "'body' must be a string.", pointer="/body")
        comment = self.state.add_comment(req.params["id"], text or "", user_id=ACCOUNT_USER_ID)
        return _data(comment.to_dict(), 201)

    def list_supporting_documents(self, req: Request) -> Response:
        docs = self.state.list_supporting_documents(req.params["id"])
        # the spec documents 201 for this GET; clients are told to accept any 2xx
        return _data([d.to_dict() for d in docs], 201)

    def create_supporting_documents(self, req: Request) -> Response:
        body = req.json()
        docs = self.state.add_supporting_documents(req.params["id"], body.get("documents"))
        return _data([d.to_dict() for d in docs], 201)

    # ------------------------------------------------------------------ events

    def list_events(self, req: Request) -> Response:
        q = req.query
        q.check_filters(EVENT_FILTERS)
        page, size = q.page()
        items, meta = self.state.list_events(
            event_type=q.get_enum("filter[event_type]", EVENT_TYPES),
            portout_id=q.get("filter[portout_id]"),
            gte=q.get_datetime("filter[created_at][gte]"),
            lte=q.get_datetime("filter[created_at][lte]"),
            page=page,
            size=size,
        )
        return _list(items, meta)

    def get_event(self, req: Request) -> Response:
        with self.state.lock:
            ev = self.state.get_event(req.params["id"])
            return Response(200, b'{"data":' + self.state.event_json(ev) + b"}")

    def republish_event(self, req: Request) -> Response:
        self.state.republish(req.params["id"])
        return Response(204)

    # ------------------------------------------------------------------ reports

    def list_reports(self, req: Request) -> Response:
        q = req.query
        q.check_filters(REPORT_FILTERS)
        page, size = q.page()
        items, meta = self.state.list_reports(
            report_type=q.get_enum("filter[report_type]", REPORT_TYPES),
            status=q.get_enum("filter[status]", REPORT_STATUSES),
            page=page,
            size=size,
        )
        return _json(200, {"data": items, "meta": meta})

    def create_report(self, req: Request) -> Response:
        report = self.state.create_report(req.json())
        return _data(report.to_dict(), 201)

    def get_report(self, req: Request) -> Response:
        return _data(self.state.get_report(req.params["id"]).to_dict())

    # ------------------------------------------------------------------ phone numbers

    def list_phone_numbers(self, req: Request) -> Response:
        flt = number_filter(req.query)
        page, size = req.query.page()
        items, meta = self.state.list_phone_numbers(flt, page, size)
        return _list(items, meta)

    def get_phone_number(self, req: Request) -> Response:
        with self.state.lock:
            number = self.state.get_phone_number(req.params["id"])
            return Response(200, b'{"data":' + number.json() + b"}")

    # ------------------------------------------------------------------ documents

    def create_document(self, req: Request) -> Response:
        if req.content_type.startswith("multipart/form-data"):
            doc = self._multipart_document(req)
        else:
            doc = self.state.create_document_from_json(req.json())
        return _data(doc.to_dict())

    def _multipart_document(self, req: Request) -> Any:
        header = f"Content-Type: {req.headers.get('Content-Type')}\r\n\r\n".encode()
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(header + req.body)
        file_part = None
        reference: str | None = None
        if message.is_multipart():
            for part in message.iter_parts():  # type: ignore[attr-defined]
                name = part.get_param("name", header="content-disposition")
                if name == "file":
                    file_part = part
                elif name == "customer_reference":
                    reference = _part_bytes(part).decode()
        if file_part is None:
            raise SandboxError("10004", "The multipart field 'file' is required.", pointer="/file")
        content = _part_bytes(file_part)
        return self.state.create_document(
            filename=file_part.get_filename() or "document",
            content=content,
            content_type=file_part.get_content_type(),
            customer_reference=reference,
        )

    def get_document(self, req: Request) -> Response:
        return _data(self.state.get_document(req.params["id"]).to_dict())

    def download_document(self, req: Request) -> Response:
        doc = self.state.get_document(req.params["id"])
        return Response(
            200,
            doc.content,
            doc.content_type,
            {"Content-Disposition": f'attachment; filename="{doc.filename}"'},
        )

    def document_download_link(self, req: Request) -> Response:
        doc = self.state.get_document(req.params["id"])
        return _data({"url": f"{self.state.public_root}/files/documents/{doc.id}"})

    def serve_file(self, path: str) -> Response:
        """Unauthenticated downloads: LSR PDFs and temporary document links."""
        match = re.fullmatch(r"/files/lsr/(?P<id>[^/]+)\.pdf", path)
        if match:
            po = self.state.get_portout(match["id"])
            return Response(200, lsr_pdf(po), "application/pdf")
        match = re.fullmatch(r"/files/documents/(?P<id>[^/]+)", path)
        if match:
            doc = self.state.get_document(match["id"])
            return Response(200, doc.content, doc.content_type)
        raise SandboxError("10005", "File not found.")


def _part_bytes(part: Any) -> bytes:
    payload = part.get_payload(decode=True)
    return payload if isinstance(payload, bytes) else b""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


class _Handler(BaseHTTPRequestHandler):
    sandbox: SandboxServer
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
        sandbox = self.sandbox
        with sandbox._inflight_cond:
            sandbox._inflight += 1
        try:
            self._handle_counted(method)
        finally:
            with sandbox._inflight_cond:
                sandbox._inflight -= 1
                sandbox._inflight_cond.notify_all()

    def _handle_counted(self, method: str) -> None:
        sandbox = self.sandbox
        split = urlsplit(self.path)
        path = split.path
        body = self._read_body()
        if path.startswith("/files/"):
            try:
                if method not in ("GET", "HEAD"):
                    raise MethodNotAllowed(method, path, ["GET"])
                self._send(sandbox.serve_file(path))
            except SandboxError as err:
                self._send(_error(err))
            return
        if not (path == "/v2" or path.startswith("/v2/")):
            self._send(_error(SandboxError("10005", f"No route for {path}; the API is under /v2.")))
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
        try:
            if fault == "429":
                retry_after = str(sandbox.faults.config.retry_after)
                raise _Fault(
                    SandboxError("10011", "Rate limit exceeded; retry later."),
                    {"Retry-After": retry_after},
                )
            if fault in ("500", "503"):
                code = "10007" if fault == "500" else "10038"
                raise _Fault(SandboxError(code, "Injected failure; please retry."), {})
            sandbox.authenticate(self.headers)
            response = sandbox.dispatch(
                method, path[3:] or "/", Query(split.query), self.headers, body
            )
        except _Fault as fault_error:
            response = _error(fault_error.error, fault_error.headers)
        except SandboxError as err:
            response = _error(err)
        except Exception:
            logger.error("sandbox request failed:\n%s", traceback.format_exc())
            response = _error(SandboxError("10007", "The sandbox hit an unexpected error."))
        sandbox.requests.append((method, path, response.status))
        self._send(response)

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


class _Fault(Exception):
    def __init__(self, error: SandboxError, headers: dict[str, str]) -> None:
        super().__init__(error.detail)
        self.error = error
        self.headers = headers
