"""`make demo`'s last word: once every process is up, print the URL and the sign-ins again.

The first banner (setup_demo) scrolls away under the processes' start-up lines. This waits
until the dashboard answers /healthz with 200, the sandbox answers, and a Celery worker has
taken up a sync run (beat queues one every SYNC_INCREMENTAL_EVERY seconds), then prints
the banner and stays idle (honcho stops every process when one exits).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from portouts.management.commands.setup_demo import demo_banner
from portouts.models import SyncRun

#: Seconds to wait for each process before saying which one is not up.
WAIT_SECONDS = 120


def _answers(url: str, *, ok: Callable[[int], bool]) -> bool:
    try:
        return ok(httpx.get(url, timeout=2).status_code)
    except httpx.HTTPError:
        return False


class Command(BaseCommand):
    help = "Wait for the demo's processes, then print its URL and sign-ins (DEBUG only)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--sandbox-port", type=int, default=8010)

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError("demo_ready belongs to `make demo`: DEBUG only.")
        port, sandbox_port = options["port"], options["sandbox_port"]
        since = timezone.now()
        checks: list[tuple[str, Callable[[], bool]]] = [
            (
                "the dashboard",
                lambda: _answers(f"http://127.0.0.1:{port}/healthz", ok=lambda s: s == 200),
            ),
            (
                "the Telnyx sandbox",
                lambda: _answers(f"http://127.0.0.1:{sandbox_port}/v2/", ok=lambda s: s < 500),
            ),
            (
                "a Celery worker",
                lambda: SyncRun.objects.filter(picked_up_at__gte=since).exists(),
            ),
        ]
        missing = [name for name, check in checks if not _wait(check)]
        self.stdout.write(self.style.SUCCESS("\nThe demo is up." if not missing else ""))
        if missing:
            self.stdout.write(
                self.style.WARNING(f"\nNot up after {WAIT_SECONDS} s: {', '.join(missing)}.")
            )
        self.stdout.write(demo_banner(port=port, sandbox_port=sandbox_port))
        self.stdout.flush()
        while True:  # honcho stops every process once one exits
            time.sleep(3600)


def _wait(check: Callable[[], bool]) -> bool:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(1)
    return False
