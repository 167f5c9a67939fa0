"""Values every page shows: when the cache was last synced and whether that run failed."""

from __future__ import annotations

from django.http import HttpRequest

from portouts.sync_history import sync_last


def sync_status(request: HttpRequest) -> dict[str, object]:
    """The footer's sync line, from the same selector as the Sync page."""
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    last = sync_last()
    return {"last_sync_run": last.last_run, "last_successful_sync": last.last_success}
