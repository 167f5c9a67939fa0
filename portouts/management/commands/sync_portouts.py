"""`manage.py sync_portouts [--full]`: sync the cache with Telnyx now, with a progress bar.

A run that cannot start or that fails ends with one sentence on stderr and a non-zero exit,
never a traceback: the person at the terminal needs to know which service to look at (the
SyncRun row, when there is one, keeps the error).
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from portal.outages import CACHE_ERRORS, DATABASE_ERRORS, without_password
from portouts import sync, telnyx
from portouts.models import SyncRun

BAR_WIDTH = 30

#: Failures this command explains in one sentence of its own.
EXPLAINED: tuple[type[Exception], ...] = (
    sync.SyncAlreadyRunning,
    sync.SyncTakenOver,
    telnyx.APIError,
    *CACHE_ERRORS,
    *DATABASE_ERRORS,
)


class _DropExplainedTracebacks(logging.Filter):
    """The sync logs a failed run with its traceback, for worker logs; here the command's
    sentence says the same, so the traceback would only bury it."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], EXPLAINED))


def _cache_name() -> str:
    location = settings.CACHES["default"].get("LOCATION", "")
    urls = location.split(",") if isinstance(location, str) else list(location)
    return "Redis at " + ", ".join(without_password(url.strip()) for url in urls)


def _database_name() -> str:
    db = connection.settings_dict
    name = f"{connection.display_name} database {db['NAME']}"
    if db.get("HOST"):
        name += f" at {db['HOST']}" + (f":{db['PORT']}" if db.get("PORT") else "")
    return name


def _explain(exc: BaseException) -> str:
    """One sentence saying why the sync did not run or did not finish."""
    detail = " ".join(str(exc).split()) or type(exc).__name__
    if isinstance(exc, sync.SyncAlreadyRunning):
        return "Another sync is running; try again when it has finished."
    if isinstance(exc, sync.SyncTakenOver):
        return "Another sync took over the lock, so this run stopped; the other one carries on."
    if isinstance(exc, CACHE_ERRORS):
        return (
            f"The cache ({_cache_name()}) is unreachable, so the sync cannot take or keep "
            f"its lock: {detail}"
        )
    if isinstance(exc, DATABASE_ERRORS):
        return f"The database ({_database_name()}) is unreachable, so the sync stopped: {detail}"
    return f"The sync failed: {detail}"


class Command(BaseCommand):
    help = "Sync the local cache with Telnyx (incremental unless --full)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--full", action="store_true", help="Fetch every port-out, not only changes."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        run_sync = sync.run_full_sync if options["full"] else sync.run_incremental_sync
        sync_logger = logging.getLogger("portouts.sync")
        quiet = _DropExplainedTracebacks()
        sync_logger.addFilter(quiet)
        self._bar_drawn = False
        try:
            run = run_sync(triggered_by="command", on_progress=self._bar)
        except EXPLAINED as exc:
            raise CommandError(_explain(exc)) from exc
        finally:
            sync_logger.removeFilter(quiet)
            if self._bar_drawn:
                self.stdout.write("")  # end the bar's line
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
        self._bar_drawn = True
