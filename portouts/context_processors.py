"""Values every page shows: when the cache was last synced and whether that run failed."""

from __future__ import annotations

from django.http import HttpRequest

from portouts.models import SyncRun


def sync_status(request: HttpRequest) -> dict[str, object]:
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    last_run = (
        SyncRun.objects.exclude(status=SyncRun.Status.RUNNING)
        .only("kind", "status", "finished_at", "error")
        .first()
    )
    last_success = (
        SyncRun.objects.filter(status=SyncRun.Status.SUCCEEDED).only("finished_at").first()
    )
    return {"last_sync_run": last_run, "last_successful_sync": last_success}
