"""A local SMTP server for the demo (aiosmtpd): prints each e-mail it receives and keeps
it under var/mail/, so `make demo` shows alerts arriving with nothing to install."""

from __future__ import annotations

import time
from email import message_from_bytes
from email.policy import default
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone


class _Catcher:
    def __init__(self, folder: Path, write: Any) -> None:
        self.folder = folder
        self.write = write

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        stamp = timezone.now().strftime("%Y%m%dT%H%M%S.%f")
        (self.folder / f"{stamp}.eml").write_bytes(envelope.original_content or envelope.content)
        message = message_from_bytes(envelope.content, policy=default)
        body = message.get_body(preferencelist=("plain",))
        self.write(
            f"── mail to {', '.join(envelope.rcpt_tos)}: {message['subject']}\n"
            f"{body.get_content().strip() if body else ''}\n"
        )
        return "250 Message accepted for delivery"


class Command(BaseCommand):
    help = "Run a local SMTP server that prints and stores the mail it receives (DEBUG only)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=1025)
        parser.add_argument("--host", default="127.0.0.1")

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError("The mail catcher is for local demos: DEBUG only.")
        folder = Path(settings.VAR_DIR) / "mail"
        folder.mkdir(parents=True, exist_ok=True)
        catcher = _Catcher(folder, lambda text: (self.stdout.write(text), self.stdout.flush()))
        controller = Controller(catcher, hostname=options["host"], port=options["port"])
        controller.start()
        self.stdout.write(f"Mail catcher on {options['host']}:{options['port']}, mail in {folder}")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
        finally:
            controller.stop()
