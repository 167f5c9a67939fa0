"""Values every page shows: when the cache was last synced and whether that run failed, and
how often the page refreshes itself."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from portouts.sync_history import sync_last


def sync_status(request: HttpRequest) -> dict[str, object]:
    """The footer's sync line, from the same selector as the Sync page."""
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    # Read on first use, so a fragment or a refresh without the footer reads nothing.
    last = SimpleLazyObject(sync_last)
    return {
        "last_sync_run": SimpleLazyObject(lambda: last.last_run),
        "last_successful_sync": SimpleLazyObject(lambda: last.last_success),
    }


def page_refresh(request: HttpRequest) -> dict[str, object]:
    """The pollers' interval (`PAGE_REFRESH_SECONDS`), one setting for every page."""
    return {"refresh_every": settings.PAGE_REFRESH_SECONDS}
