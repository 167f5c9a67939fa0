"""`manage.py telnyx_sandbox`: run the local Telnyx port-out API in the foreground."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from telnyx_sandbox.cli import add_arguments, run


class Command(BaseCommand):
    help = (
        "Serve a local Telnyx port-out API (seeded data, signed webhooks, reports, "
        "optional traffic and fault injection) until interrupted."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        add_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        run(options, self.stdout)
