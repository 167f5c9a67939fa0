"""A sync a person asks for ("Sync now"): which kind it is, its run row, and its task.

The run row is created before the task starts, so the page shows its progress at once;
the task is queued once that row is committed (the worker reads it by id). A broker that
cannot take the task fails the run with the reason instead of raising into the page.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction

from portouts.models import SyncRun
from portouts.sync.runs import abandon_run, last_successful_run, queue_run, running_sync
from portouts.tasks import sync_portouts_task

logger = logging.getLogger("portouts.sync")


def sync_request(*, kind: str, user: Any) -> SyncRun:
    """Queue a sync of `kind` (incremental unless full is asked), or return the run already
    in progress. The first sync is always full."""
    run = running_sync()
    if run is not None:
        return run
    full = kind == SyncRun.Kind.FULL or last_successful_run() is None
    triggered_by = user.get_username()
    run = queue_run(
        kind=SyncRun.Kind.FULL if full else SyncRun.Kind.INCREMENTAL, triggered_by=triggered_by
    )
    run_id = run.pk

    def queue() -> None:
        try:
            sync_portouts_task.delay(full=full, triggered_by=triggered_by, run_id=run_id)
        except Exception as exc:  # noqa: BLE001 - any broker failure is shown, not raised
            logger.exception("Could not queue a sync")
            abandon_run(run_id, reason=f"The sync could not be queued: {exc}")

    transaction.on_commit(queue, robust=True)
    run.refresh_from_db()  # failed already when the broker refused it outside a transaction
    return run
