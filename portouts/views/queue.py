"""Home: the decision queue, most urgent port-out first, and the account's recent activity."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from portouts import selectors
from portouts.views.portouts import VERSION_HEADER


@require_GET
def decision_queue(request: HttpRequest) -> HttpResponse:
    version = selectors.cache_version()
    htmx = bool(getattr(request, "htmx", False))
    if htmx and request.headers.get(VERSION_HEADER) == version:
        return HttpResponse(status=204)  # polling: nothing changed
    queue = selectors.portout_queue()
    context = {
        "status_counts": selectors.portout_status_counts(),
        "queue": queue,
        "overdue_count": sum(1 for _p, d in queue if d.overdue),
        "due_soon_count": sum(1 for _p, d in queue if d.due_soon),
        "activity": selectors.recent_activity(),
        "window_hours": settings.REVIEW_WINDOW_HOURS,
        "due_soon_hours": getattr(settings, "REVIEW_DUE_SOON_HOURS", 4),
        "version": version,
    }
    template = "portouts/queue.html#board" if htmx else "portouts/queue.html"
    return render(request, template, context)
