"""`manage.py sync_portouts [--full]`: sync the cache with Telnyx now, with a progress bar."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from portouts import sync, telnyx
from portouts.models import SyncRun

BAR_WIDTH = 30


class Command(BaseCommand):
    help = "Sync the local cache with Telnyx (incremental unless --full)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--full", action="store_true", help="Fetch every port-out, not only changes."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        run_sync = sync.run_full_sync if options["full"] else sync.run_incremental_sync
        try:
            run = run_sync(triggered_by="command", on_progress=self._bar)
        except sync.SyncAlreadyRunning as exc:
            raise CommandError("Another sync is running; try again when it has finished.") from exc
        except telnyx.APIError as exc:
            raise CommandError(f"The sync failed: {exc}") from exc
        self.stdout.write("")
        counts = run.counts
        self.stdout.write(
            self.style.SUCCESS(
                f"{run.get_kind_display()} sync finished: {run.progress_done} port-outs seen, "
                f"{counts.get('created', 0)} new, {counts.get('updated', 0)} changed, "
                f"{counts.get('vanished', 0)} vanished, {counts.get('comments', 0)} comments, "
                f"{counts.get('skipped', 0)} skipped, {run.api_requests} API requests."
            )
        )

    def _bar(self, run: SyncRun) -> None:
        total = run.progress_total or 0
        done = min(run.progress_done, total) if total else run.progress_done
        filled = int(BAR_WIDTH * done / total) if total else 0
        percent = f"{100 * done // total:3d}%" if total else "   ?"
        bar = "#" * filled + "-" * (BAR_WIDTH - filled)
        self.stdout.write(f"\r[{bar}] {percent} {done}/{total or '?'}", ending="")
        self.stdout.flush()
