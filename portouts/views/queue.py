"""Home: the decision queue in sections by time left, and the account's recent activity.

The page polls a separate address (`queue_refresh`), so the browser never files a fragment
under the page's own address; the refresh answers 204 when nothing changed, else only the
sections or rows that changed, out of band, so the selection, focus and an open section stay.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.http import require_GET

from portouts import queue, selectors, timeline
from portouts.choices import TimeLeft
from portouts.review import approvals
from portouts.views import HtmxHttpRequest, fragment_headers

#: Query parameters of the refresh: the global version, the newest sync the page shows,
#: and each section's tokens (`s_<key>` content, `m_<key>` membership).
VERSION, SINCE = "v", "since"


def _refresh_vals(version: str, states: dict[TimeLeft, queue.SectionState]) -> str:
    since = queue.latest_sync(states)
    vals = {VERSION: version, SINCE: since.isoformat() if since else ""}
    for key, state in states.items():
        vals[f"s_{key}"] = state.token
        vals[f"m_{key}"] = state.membership
    return json.dumps(vals)


def _common(version: str, states: dict[TimeLeft, queue.SectionState]) -> dict[str, Any]:
    return {
        "version": version,
        "refresh_vals": _refresh_vals(version, states),
        "window_hours": settings.REVIEW_WINDOW_HOURS,
        "due_soon_hours": settings.REVIEW_DUE_SOON_HOURS,
    }


@require_GET
def decision_queue(request: HtmxHttpRequest) -> HttpResponse:
    now = timezone.now()
    version = selectors.cache_version()
    states = queue.queue_state(now=now)
    context = {
        **_common(version, states),
        "sections": queue.queue_sections(states, now=now, folded=queue.FOLDED),
        "status_counts": selectors.portout_status_counts(version=version),
        "activity": timeline.recent_activity(version=version),
        "waiting_approvals": approvals.waiting_for_second_reviewer(),
    }
    return fragment_headers(request, render(request, "portouts/queue.html", context))


@require_GET
def queue_refresh(request: HtmxHttpRequest) -> HttpResponse:
    """204 when the page is current; else the changed sections (membership moved) or rows
    (content changed); the counts by status, the rejections waiting for a second reviewer
    and the recent activity when the cache moved."""
    if not request.htmx:
        return redirect("portouts:queue")
    now = timezone.now()
    version = selectors.cache_version()
    states = queue.queue_state(now=now)
    got = request.GET
    moved = tuple(k for k in queue.SECTIONS if got.get(f"m_{k}") != states[k].membership)
    touched = [k for k in queue.SECTIONS if k not in moved and got.get(f"s_{k}") != states[k].token]
    cache_moved = got.get(VERSION) != version
    if not (moved or touched or cache_moved):
        return fragment_headers(request, HttpResponse(status=204))
    since = parse_datetime(got.get(SINCE, ""))
    rows: list[queue.QueueRow] = []
    if touched and since is not None:
        changed = queue.rows_synced_since(since, now=now)
        rows = [row for key in touched for row in changed[key]]
    elif touched:
        moved += tuple(touched)
    context = {
        **_common(version, states),
        "sections": queue.queue_sections(states, moved, now=now),
        "rows": rows,
        "cache_moved": cache_moved,
        "oob": True,
    }
    if cache_moved:
        context["status_counts"] = selectors.portout_status_counts(version=version)
        context["activity"] = timeline.recent_activity(version=version)
        context["waiting_approvals"] = approvals.waiting_for_second_reviewer()
    response = render(request, "portouts/queue.html#refresh", context)
    return fragment_headers(request, response)


@require_GET
def queue_section(request: HtmxHttpRequest, key: str) -> HttpResponse:
    """A folded section's rows (`key` is one of `queue.FOLDED`, by the URL), asked for when
    the reviewer opens it."""
    if not request.htmx:
        return redirect("portouts:queue")
    now = timezone.now()
    state = queue.queue_state(now=now)[TimeLeft(key)]
    context = {
        "section": queue.Section(state, queue.section_rows(state.key, now=now)),
        "due_soon_hours": settings.REVIEW_DUE_SOON_HOURS,
    }
    return fragment_headers(request, render(request, "portouts/queue.html#section_rows", context))
