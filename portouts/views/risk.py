"""Risk actions on a port-out's page (confirmation request, outcome label, watch list) and
the end user's public answer page.

The answer page needs no sign-in (a single-use signed link made for one purpose), is
rate-limited per client address with the sign-in throttle's cache counter, and shows
nothing but the gaining carrier, the last digits of the numbers and the date.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_http_methods, require_POST

from portal.auth import client_address, count_in_window
from portal.outages import CACHE_ERRORS
from portouts.risk import confirmation, outcomes, watchlist
from portouts.risk.forms import AnswerForm, ConfirmationForm, OutcomeForm
from portouts.risk.selectors import public_summary
from portouts.views import HtmxHttpRequest
from portouts.views.portouts import can_review, detail_context, get_portout

logger = logging.getLogger(__name__)

#: signed links are far shorter; anything longer is not one of ours
TOKEN_MAX_LENGTH = 400


def _require_review(request: HtmxHttpRequest) -> None:
    if not can_review(request):
        raise PermissionDenied("Only reviewers can act on port-outs.")


def _back(portout_id: str, anchor: str) -> HttpResponse:
    return redirect(f"{reverse('portouts:detail', args=[portout_id])}#{anchor}")


def _page_with_errors(request: HtmxHttpRequest, portout_id: str, **extra: Any) -> HttpResponse:
    portout = get_portout(portout_id)
    return render(
        request, "portouts/detail.html", detail_context(request, portout, **extra), status=400
    )


@require_POST
def confirmation_send(request: HtmxHttpRequest, portout_id: str) -> HttpResponse:
    """E-mail the end user a link asking whether they requested this transfer."""
    _require_review(request)
    form = ConfirmationForm(request.POST)
    if not form.is_valid():
        return _page_with_errors(request, portout_id, confirmation_form=form)
    result = confirmation.confirmation_send(
        user=request.user,
        portout_id=get_portout(portout_id).id,
        email=form.cleaned_data["email"],
        answer_within=form.answer_window(),
        base_url=request.build_absolute_uri("/"),
        idempotency_key=form.cleaned_data["idempotency_key"],
    )
    (messages.success if result.ok else messages.error)(request, result.message)
    return _back(portout_id, "confirmation")


@require_POST
def outcome_label(request: HtmxHttpRequest, portout_id: str) -> HttpResponse:
    """Label how an ended port-out turned out (audited)."""
    _require_review(request)
    form = OutcomeForm(request.POST)
    if not form.is_valid():
        return _page_with_errors(request, portout_id, outcome_form=form)
    result = outcomes.portout_label(
        user=request.user,
        portout_id=get_portout(portout_id).id,
        label=form.cleaned_data["label"],
        note=form.cleaned_data["note"],
    )
    if not result.ok:
        return _page_with_errors(request, portout_id, outcome_notice=result.message)
    messages.success(request, result.message)
    return _back(portout_id, "outcome")


@require_POST
def outcome_watch(request: HtmxHttpRequest, portout_id: str) -> HttpResponse:
    """Add a fraud port-out's SPID, carrier, names and address to the watch list, in two
    steps: the list of entries to add, then the confirmation."""
    _require_review(request)
    portout = get_portout(portout_id)
    if request.POST.get("step") != "confirm":
        context = detail_context(
            request, portout, watch_confirm=watchlist.watch_candidates(portout)
        )
        return render(request, "portouts/detail.html", context)
    added = watchlist.watch_entries_add_from_portout(user=request.user, portout=portout)
    messages.success(request, f"{added} new watch-list entr{'y' if added == 1 else 'ies'}.")
    return _back(portout_id, "outcome")


# -- the end user's answer page (public) ---------------------------------------------------


def _rate_limited(request: HtmxHttpRequest) -> bool:
    """Count this request against the client address; fail open when the cache is down
    (the links are unguessable; the limit only slows a flood)."""
    try:
        count = count_in_window(
            f"confirm-link:addr:{client_address(request)}", settings.CONFIRMATION_RATE_WINDOW
        )
    except CACHE_ERRORS as exc:
        logger.warning("Confirmation page rate limit skipped, the cache is unreachable: %s", exc)
        return False
    return count > settings.CONFIRMATION_RATE_LIMIT


def _public(request: HtmxHttpRequest, context: dict[str, Any], status: int = 200) -> HttpResponse:
    response = render(request, "portouts/confirmation_public.html", context, status=status)
    # The site's Referrer-Policy (same-origin) keeps the link's token from other sites;
    # "no-referrer" would make browsers send `Origin: null`, which the CSRF check refuses.
    response["Cache-Control"] = "no-store"
    return response


#: the status of each reason a link cannot be used
PROBLEM_STATUS = {confirmation.INVALID: 404, confirmation.EXPIRED: 410, confirmation.USED: 410}


@login_not_required
@csrf_protect
@require_http_methods(["GET", "POST"])
def confirmation_answer(request: HtmxHttpRequest, token: str) -> HttpResponse:
    """ "Did you request this transfer? Yes / No", answered once through a signed link."""
    if _rate_limited(request):
        return _public(request, {"problem": "throttled"}, status=429)
    token = token if len(token) <= TOKEN_MAX_LENGTH else ""
    form = AnswerForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        state = confirmation.confirmation_answer(token, answer=form.cleaned_data["answer"])
    else:
        state = confirmation.confirmation_open(token)
    if state.request is None:
        return _public(request, {"problem": state.problem}, PROBLEM_STATUS[state.problem])
    if form.is_valid():
        return _public(request, {"answered": form.cleaned_data["answer"]})
    summary = public_summary(portout=state.request.portout)
    return _public(request, {"summary": summary, "form": form}, 400 if form.is_bound else 200)
