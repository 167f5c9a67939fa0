"""The team's desk on a port-out's page: internal notes, presence (who is deciding) and the
two-person rule's approve and withdraw.

Views parse, call a service of `portouts.review` and render a fragment (htmx) or the page.
Writing a note, approving and withdrawing need the Reviewer role; reading needs sign-in.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from portouts.forms import InternalNoteForm
from portouts.review import approvals, notes, presence
from portouts.views import HtmxHttpRequest
from portouts.views.portouts import detail_context, get_portout
from portouts.views.review import _after_decision, _require_review

SAVED = "Internal note saved. It stays in the dashboard and is never sent to Telnyx."


@require_POST
def note_create(request: HtmxHttpRequest, portout_id: str) -> HttpResponse:
    """Keep an internal note (never sent to Telnyx); it shows in the timeline at once."""
    _require_review(request)
    portout = get_portout(portout_id)
    form = InternalNoteForm(request.POST)
    notice: tuple[str, str] | None = None
    if form.is_valid():
        body = form.cleaned_data["body"]
        notes.internal_note_create(user=request.user, portout=portout, body=body)
        if not request.htmx:
            messages.success(request, SAVED)
            return redirect(f"{reverse('portouts:detail', args=[portout.id])}#timeline")
        notice, form = ("success", SAVED), InternalNoteForm()
    context = detail_context(request, portout, note_form=form, note_notice=notice)
    if request.htmx:
        context["oob"] = True
        return render(request, "portouts/_note_response.html", context)
    return render(request, "portouts/detail.html", context)


@require_POST
def deciding_mark(request: HtmxHttpRequest, portout_id: str) -> HttpResponse:
    """The decision panel was opened (open=1) or closed: tell the others, and warn when
    someone else is deciding this port-out already."""
    portout = get_portout(portout_id)
    deciding = request.POST.get("open") == "1"
    present = presence.presence_touch(portout_id=portout.id, user=request.user, deciding=deciding)
    context = {"portout": portout, "presence": present, "deciding_now": deciding}
    return render(request, "portouts/_deciding_warning.html", context)


@require_POST
def rejection_approve(request: HtmxHttpRequest, portout_id: str, pending_id: int) -> HttpResponse:
    """A second reviewer sends a prepared rejection to Telnyx."""
    _require_review(request)
    get_portout(portout_id)
    result = approvals.rejection_approve(
        user=request.user, portout_id=portout_id, pending_id=pending_id
    )
    return _after_decision(request, portout_id, result)


@require_POST
def rejection_withdraw(request: HtmxHttpRequest, portout_id: str, pending_id: int) -> HttpResponse:
    """Withdraw a prepared rejection: nothing is sent."""
    _require_review(request)
    get_portout(portout_id)
    result = approvals.rejection_withdraw(
        user=request.user, portout_id=portout_id, pending_id=pending_id
    )
    return _after_decision(request, portout_id, result)
