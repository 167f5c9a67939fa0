"""Events: the port-out events in the cache, filtered and paged, and republishing one."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from portouts import events as event_service
from portouts.filters import PortOutEventFilter
from portouts.models import PortOut, PortOutEvent
from portouts.roles import REVIEW_PERMISSION

PER_PAGE = 50


@require_GET
def events_page(request: HttpRequest) -> HttpResponse:
    """All events, or one port-out's (?portout=<support key or id>), newest first."""
    # Always bound (an empty query string is valid), so the ordering of the FilterSet applies.
    filterset = PortOutEventFilter(request.GET, queryset=PortOutEvent.objects.all())
    # A filter that does not validate (e.g. a port-out id no Telnyx id looks like) shows its
    # error and filters nothing; the others still apply.
    filterset.is_valid()
    page = Paginator(filterset.qs, PER_PAGE).get_page(request.GET.get("page"))
    rows = event_service.event_rows(list(page.object_list))
    portout_id = filterset.form.cleaned_data.get("portout") or ""
    portout = PortOut.objects.by_reference(portout_id).first() if portout_id else None
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "portouts/events.html",
        {
            "filter": filterset,
            "page": page,
            "rows": rows,
            "portout_id": portout_id,
            "portout": portout,
            "query": query.urlencode(),
            "can_republish": request.user.has_perm(REVIEW_PERMISSION),
        },
    )


@require_POST
def event_republish(request: HttpRequest, event_id: str) -> HttpResponse:
    """Ask Telnyx to deliver one event again; the outcome is shown and audited."""
    if not request.user.has_perm(REVIEW_PERMISSION):
        raise PermissionDenied("You may not republish events.")
    # Only events the dashboard knows of: an unknown id is a 404 and never reaches Telnyx.
    event = get_object_or_404(
        PortOutEvent.objects.only("id", "event_type", "portout_id"), pk=event_id
    )
    result = event_service.republish_event(event=event, user=request.user)
    if result.ok:
        messages.success(request, result.message)
    else:
        messages.error(request, result.message)
    back = request.POST.get("next", "")
    if not back or not url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        back = reverse("portouts:events")
    return HttpResponseRedirect(back)
