"""Command-line options shared by `manage.py telnyx_sandbox` and `python -m telnyx_sandbox`."""

from __future__ import annotations

import argparse
import signal
import threading
import time
from pathlib import Path
from typing import Any, Protocol

from .server import SandboxServer

__all__ = ["add_arguments", "build_server", "run"]


class Writer(Protocol):
    def write(self, msg: str, /) -> Any: ...

    def flush(self) -> Any: ...


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add = parser.add_argument
    add("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    add("--port", type=int, default=8010, help="port to bind (0 = any free port)")
    add("--seed", type=int, default=500, help="number of port-outs to seed (default 500)")
    add("--random-seed", type=int, default=1, help="random seed for the seeded data")
    add("--api-key", default=None, help="accept only this Bearer key (default: any non-empty)")
    add("--webhook-url", default=None, help="deliver signed webhooks to this URL")
    add("--private-key", default=None, help="Ed25519 signing key, base64 of the raw 32 bytes")
    add("--public-key-file", default=None, help="write the webhook public key (base64) here")
    add("--public-url", default=None, help="external root URL used in LSR/document links")
    add("--traffic", type=float, default=None, metavar="SECONDS", help="simulate activity")
    add("--traffic-seed", type=int, default=None, help="random seed for --traffic")
    add("--report-delay", type=float, default=3.0, help="seconds until a report completes")
    add("--reject-delay", type=float, default=30.0, help="seconds rejected-pending -> rejected")
    add(
        "--authorize-after-hours",
        type=float,
        default=24.0,
        help="hours after which Telnyx authorizes a pending port-out nobody answered (24)",
    )
    add(
        "--write-customers",
        default=None,
        metavar="PATH",
        help="write the seeded customers as CSV to PATH and exit (same --seed and "
        "--random-seed give the same customers as the serving run)",
    )
    add("--webhook-attempts", type=int, default=4, help="delivery attempts per event")
    add("--webhook-backoff", type=float, default=0.5, help="first retry delay in seconds")
    faults = parser.add_argument_group("fault injection")
    faults.add_argument("--latency-ms", type=float, default=0.0, help="added to every request")
    faults.add_argument("--rate-limit-ratio", type=float, default=0.0, help="fraction of 429s")
    faults.add_argument("--retry-after", type=int, default=1, help="Retry-After on 429s")
    faults.add_argument("--error-ratio", type=float, default=0.0, help="fraction of 500/503s")
    faults.add_argument("--drop-ratio", type=float, default=0.0, help="fraction of dropped conns")
    faults.add_argument("--slow-ratio", type=float, default=0.0, help="fraction of slow replies")
    faults.add_argument("--slow-seconds", type=float, default=0.0, help="delay of slow replies")
    faults.add_argument("--fault-seed", type=int, default=0, help="random seed for faults")


def build_server(options: dict[str, Any]) -> SandboxServer:
    return SandboxServer(
        host=options["host"],
        port=options["port"],
        seed_count=options["seed"],
        seed=options["random_seed"],
        api_key=options["api_key"],
        webhook_url=options["webhook_url"],
        private_key_b64=options["private_key"],
        public_url=options["public_url"],
        traffic_interval=options["traffic"],
        traffic_seed=options["traffic_seed"],
        report_delay=options["report_delay"],
        reject_delay=options["reject_delay"],
        authorize_after_hours=options["authorize_after_hours"],
        webhook_max_attempts=options["webhook_attempts"],
        webhook_backoff=options["webhook_backoff"],
        latency_ms=options["latency_ms"],
        rate_limit_ratio=options["rate_limit_ratio"],
        retry_after=options["retry_after"],
        error_ratio=options["error_ratio"],
        drop_ratio=options["drop_ratio"],
        slow_ratio=options["slow_ratio"],
        slow_seconds=options["slow_seconds"],
        fault_seed=options["fault_seed"],
    )


def run(options: dict[str, Any], out: Writer) -> None:
    """Seed, start, print where it listens and the webhook public key, serve until Ctrl-C
    (or, with --write-customers, write the customers CSV and return)."""
    started = time.perf_counter()
    server = build_server(options)
    seeded = time.perf_counter() - started
    if options.get("write_customers"):
        rows = server.write_customers(options["write_customers"])
        out.write(f"Wrote {rows} customers to {options['write_customers']}\n")
        out.flush()
        return
    base_url = server.start()
    key = server.public_key_b64
    if options.get("public_key_file"):
        Path(options["public_key_file"]).write_text(key + "\n")
    out.write(
        f"Telnyx sandbox listening on {base_url} "
        f"({len(server.state.portouts)} port-outs seeded in {seeded:.1f}s)\n"
        f"Webhook public key (TELNYX_PUBLIC_KEY): {key}\n"
    )
    if server.webhook_url:
        out.write(f"Delivering webhooks to {server.webhook_url}\n")
    out.flush()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: server.request_stop())
    server.serve_forever()
