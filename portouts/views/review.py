"""The actions on a port-out's page: authorize, reject, comment, attach a document.

Each view parses the form, calls a review service (`portouts.review`) and renders the
decision panel or the form's fragment with the outcome. Every form also works as a plain
form with JavaScript off (POST, then redirect or re-render the page). Nothing reaches
Telnyx without the Reviewer role.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST

from portouts.documents import safe_filename
from portouts.forms import (
    AuthorizeForm,
    CommentForm,
    DocumentUploadForm,
    RejectForm,
    new_idempotency_key,
)
from portouts.models import PortOut, PortOutStatus
from portouts.review import approvals, attachments, comments, decisions, rules
from portouts.review.audit import ReviewResult
from portouts.upload_handlers import DocumentSizeLimitHandler
from portouts.views import HtmxHttpRequest
from portouts.views.portouts import can_review, detail_context, get_portout


def _require_review(request: HtmxHttpRequest) -> None:
    """Refuse before anything reaches Telnyx: deciding needs the Reviewer role."""
    if not can_review(request):
        raise PermissionDenied("Only reviewers can act on port-outs.")


def _decision_response(
    request: HtmxHttpRequest,
    portout: PortOut,
    *,
    notice: tuple[str, str] | None = None,
    status: int = 200,
    **extra: Any,
) -> HttpResponse:
    """The decision panel after a step: a fragment for htmx, else the whole page."""
    context = detail_context(request, portout, notice=notice, **extra)
    if request.htmx:
        context["oob"] = True
        return render(request, "portouts/detail.html#decision_response", context, status=status)
    return render(request, "portouts/detail.html", context, status=status)


def _after_decision(
    request: HtmxHttpRequest, portout_id: str, result: ReviewResult, **extra: Any
) -> HttpResponse:
    if result.ok and not request.htmx:
        messages.success(request, result.message)
        return redirect("portouts:detail", portout_id=portout_id)
    # Read afresh, with what its page reads beside it (the service's copy has none of it).
    portout = get_portout(portout_id)
    level = "success" if result.ok else "error"
    return _decision_response(request, portout, notice=(level, result.message), **extra)


def _confirming(request: HtmxHttpRequest, form: AuthorizeForm | RejectForm) -> bool:
    """The second step: the confirm screen was sent back with its fresh idempotency key."""
    return request.POST.get("step") == "confirm" and bool(form.cleaned_data["idempotency_key"])


@require_POST
def portout_authorize(request: HtmxHttpRequest, portout_id: str) -> HttpResponse:
    """Authorize in two steps: review the choices, then confirm (one API call per confirm)."""
    _require_review(request)
    portout = get_portout(portout_id)
    form = AuthorizeForm(request.POST, username=request.user.get_username())
    if not form.is_valid():
        return _decision_response(request, portout, authorize_form=form, open_panel="authorize")
    if not _confirming(request, form):
        confirm = AuthorizeForm(
            initial={**form.cleaned_data, "idempotency_key": new_idempotency_key()},
            username=form.username,
        )
        return _decision_response(
            request,
            portout,
            confirm="authorize",
            confirm_form=confirm,
            note_to_send=form.reason_to_send(),
            host_messaging=form.cleaned_data["host_messaging"],
        )
    result = decisions.portout_authorize(
        user=request.user,
        portout_id=portout_id,
        note=form.cleaned_data["note"],
        host_messaging=form.cleaned_data["host_messaging"],
        idempotency_key=form.cleaned_data["idempotency_key"],
    )
    return _after_decision(request, portout_id, result)


@require_POST
def portout_reject(request: HtmxHttpRequest, portout_id: str) -> HttpResponse:
    """Reject with an eligible code and a reason, in two steps like authorize.

    The eligible codes are read once for the request; when the cache holds none for a
    pending port-out, Telnyx is asked here (step "codes" only does that)."""
    _require_review(request)
    portout = get_portout(portout_id)
    codes = rules.eligible_codes(portout_id=portout.id)
    if not codes and portout.status == PortOutStatus.PENDING:
        decisions.eligible_codes_load(codes)
    if request.POST.get("step") == "codes":
        return _decision_response(request, portout, codes=codes, open_panel="reject")
    form = RejectForm(request.POST, codes=codes)
    if not form.is_valid():
        return _decision_response(
            request, portout, codes=codes, reject_form=form, open_panel="reject"
        )
    if not _confirming(request, form):
        confirm = RejectForm(
            initial={**form.cleaned_data, "idempotency_key": new_idempotency_key()}, codes=codes
        )
        return _decision_response(
            request,
            portout,
            codes=codes,
            confirm="reject",
            confirm_form=confirm,
            chosen_code=form.code,
            reason_to_send=form.reason_to_send(),
        )
    code = form.code
    assert code is not None
    # Under the two-person rule the rejection is prepared for a second reviewer; nothing is
    # sent yet.
    send = approvals.rejection_prepare if settings.TWO_PERSON_RULE else decisions.portout_reject
    result = send(
        user=request.user,
        portout_id=portout_id,
        rejection_code=code.code,
        reason=form.cleaned_data["reason"],
        idempotency_key=form.cleaned_data["idempotency_key"],
        codes=codes,
    )
    return _after_decision(request, portout_id, result, codes=codes)


def _after_post(
    request: HtmxHttpRequest,
    portout: PortOut,
    result: ReviewResult | None,
    *,
    name: str,
    anchor: str,
    form: CommentForm | DocumentUploadForm,
) -> HttpResponse:
    """After a comment or an upload: back to the page (plain form) or the form's fragment
    with the outcome (htmx, or a failure); a fresh form once it succeeded."""
    notice: tuple[str, str] | None = None
    if result is not None:
        if result.ok and not request.htmx:
            messages.success(request, result.message)
            return redirect(f"{reverse('portouts:detail', args=[portout.id])}#{anchor}")
        notice = ("success" if result.ok else "error", result.message)
        if result.ok:
            form = type(form)(initial={"idempotency_key": new_idempotency_key()})
    extra: dict[str, Any] = {f"{name}_form": form, f"{name}_notice": notice}
    context = detail_context(request, portout, **extra)
    if request.htmx:
        context["oob"] = True
        return render(request, f"portouts/detail.html#{name}_response", context)
    return render(request, "portouts/detail.html", context)


@require_POST
def portout_comment(request: HtmxHttpRequest, portout_id: str) -> HttpResponse:
    """Post a comment to Telnyx; it shows in the timeline from Telnyx's answer."""
    _require_review(request)
    portout = get_portout(portout_id)
    form = CommentForm(request.POST)
    result = None
    if form.is_valid():
        result = comments.portout_comment(
            user=request.user,
            portout_id=portout_id,
            body=form.cleaned_data["body"],
            idempotency_key=form.cleaned_data["idempotency_key"] or None,
        )
    return _after_post(request, portout, result, name="comment", anchor="timeline", form=form)


@csrf_exempt
@require_POST
def portout_upload(request: HtmxHttpRequest, portout_id: str) -> HttpResponse:
    """Upload a file to Telnyx and attach it as LOA or invoice, in the same request.

    The size limit is enforced while the body is read (not after Django stored the whole
    file): the handler goes first, so the CSRF check runs after it, in `_upload`, as the
    Django documentation describes for changing upload handlers.
    """
    limit = DocumentSizeLimitHandler(request)
    request.upload_handlers.insert(0, limit)
    return _upload(request, portout_id, limit)


@csrf_protect
def _upload(
    request: HtmxHttpRequest, portout_id: str, limit: DocumentSizeLimitHandler
) -> HttpResponse:
    _require_review(request)
    portout = get_portout(portout_id)
    form = DocumentUploadForm(request.POST, request.FILES, too_large="file" in limit.too_large)
    result = None
    if form.is_valid():
        upload = form.cleaned_data["file"]
        result = attachments.portout_attach_document(
            user=request.user,
            portout_id=portout_id,
            document_type=form.cleaned_data["document_type"],
            filename=safe_filename(upload.name),
            content=upload.read(),
            content_type=form.cleaned_data["content_type"],
            idempotency_key=form.cleaned_data["idempotency_key"] or None,
        )
    return _after_post(request, portout, result, name="upload", anchor="documents", form=form)
