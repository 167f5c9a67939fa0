"""Home: the decision queue."""

from __future__ import annotations

from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from portouts.models import PortOut, PortOutStatus


@require_GET
def decision_queue(request: HttpRequest) -> HttpResponse:
    counts = dict(
        PortOut.objects.present().values_list("status").annotate(n=Count("id")).order_by()
    )
    status_counts = [(status, counts.get(status.value, 0)) for status in PortOutStatus]
    pending = PortOut.objects.pending().order_by("created_at")[:100]
    return render(
        request,
        "portouts/queue.html",
        {"status_counts": status_counts, "pending": pending},
    )
