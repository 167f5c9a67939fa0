"""Values every page shows: when the cache was last synced and whether that run failed, and
how often the page refreshes itself."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest

from portouts.models import SyncRun

SYNC_KINDS = (SyncRun.Kind.FULL, SyncRun.Kind.INCREMENTAL)


def sync_status(request: HttpRequest) -> dict[str, object]:
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    runs = SyncRun.objects.filter(kind__in=SYNC_KINDS).only(
        "kind", "status", "started_at", "finished_at", "error", "counts"
    )
    last_run = runs.exclude(status=SyncRun.Status.RUNNING).order_by("-started_at").first()
    last_success = runs.filter(status=SyncRun.Status.SUCCEEDED).order_by("-started_at").first()
    return {"last_sync_run": last_run, "last_successful_sync": last_success}


def page_refresh(request: HttpRequest) -> dict[str, object]:
    """The pollers' interval (`PAGE_REFRESH_SECONDS`), one setting for every page."""
    return {"refresh_every": settings.PAGE_REFRESH_SECONDS}
