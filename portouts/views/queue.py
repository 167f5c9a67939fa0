"""Home: the decision queue, most urgent port-out first, and the account's recent activity."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from portouts import rows, selectors, timeline
from portouts.views import VERSION_HEADER, HtmxHttpRequest, shows_version


@require_GET
def decision_queue(request: HtmxHttpRequest) -> HttpResponse:
    version = selectors.cache_version()
    if shows_version(request, version):
        return HttpResponse(status=204)
    queue = selectors.portout_queue()
    counts = selectors.pending_counts()
    context = {
        "status_counts": selectors.portout_status_counts(version=version),
        "queue": queue,
        "queue_rows": rows.queue_rows(queue),
        "pending_total": counts.pending,
        "overdue_count": counts.overdue,
        "due_soon_count": counts.due_soon,
        "pending_list_url": f"{reverse('portouts:list')}?{urlencode({'status': 'pending'})}",
        "activity": timeline.recent_activity(),
        "window_hours": settings.REVIEW_WINDOW_HOURS,
        "due_soon_hours": settings.REVIEW_DUE_SOON_HOURS,
        "version": version,
        "poll_headers": json.dumps({VERSION_HEADER: version}),
    }
    template = "portouts/queue.html#board" if request.htmx else "portouts/queue.html"
    return render(request, template, context)
