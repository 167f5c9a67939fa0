"""The Sync page: recent sync runs, and "Sync now" with a live progress bar."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HTMX_STOP_POLLING

from portouts import sync
from portouts.models import SyncRun
from portouts.roles import SYNC_PERMISSION
from portouts.sync_history import run_duration, run_progress, sync_history, sync_last
from portouts.views import HtmxHttpRequest

TEMPLATE = "portouts/sync_runs.html"


@require_GET
def sync_runs(request: HtmxHttpRequest) -> HttpResponse:
    """Recent runs with their counts and errors; the run in progress, if any."""
    running = sync.running_sync()
    return render(
        request,
        TEMPLATE,
        {
            "history": sync_history(),
            "running": running,
            **_progress_context(running),
            "can_sync": request.user.has_perm(SYNC_PERMISSION),
            "last_success": sync_last().last_success,
            "incremental_every": settings.SYNC_INCREMENTAL_EVERY,
            "full_crontab": settings.SYNC_FULL_CRONTAB,
            "time_zone": settings.TIME_ZONE,
        },
    )


@require_POST
def sync_start(request: HtmxHttpRequest) -> HttpResponse:
    """Queue a sync (incremental unless "full" is asked), or follow the one already running."""
    if not request.user.has_perm(SYNC_PERMISSION):
        raise PermissionDenied("You may not start a sync.")
    run = sync.sync_request(kind=request.POST.get("kind", ""), user=request.user)
    if request.htmx:
        return _progress(request, run)
    return redirect("portouts:sync_runs")


@require_GET
def sync_progress(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The progress partial that htmx polls; HTTP 286 stops the polling once the run ended."""
    return _progress(request, get_object_or_404(SyncRun, pk=pk))


def _progress(request: HtmxHttpRequest, run: SyncRun) -> HttpResponse:
    if run.status == SyncRun.Status.RUNNING:
        sync.fail_stale_runs()
        run.refresh_from_db()
    if run.status == SyncRun.Status.RUNNING:
        return render(request, f"{TEMPLATE}#progress", _progress_context(run))
    # Finished: the history table and the footer are swapped in too (out of band), and
    # HTTP 286 stops the polling.
    context = {**_progress_context(run), "history": sync_history(), "oob": True}
    return render(request, f"{TEMPLATE}#finished", context, status=HTMX_STOP_POLLING)


def _progress_context(run: SyncRun | None) -> dict[str, object]:
    if run is None:
        return {}
    return {"run": run, "progress": run_progress(run), "run_duration": run_duration(run)}
