"""The port-out list, one port-out's page, and the actions taken from it.

Pages are rendered on the server; htmx requests get the named fragment of the same
template (`list.html#results`, `detail.html#decision`, ...), and every form also works
as a plain form with JavaScript off (POST, then redirect or re-render the page).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.forms import SelectMultiple
from django.http import (
    Http404,
    HttpResponse,
    HttpResponseBase,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_POST

from portouts import review, selectors
from portouts.choices import LIST_COLUMNS
from portouts.filters import PortOutFilter
from portouts.forms import (
    PAGE_SIZES,
    AuthorizeForm,
    CommentForm,
    DocumentUploadForm,
    ListOptionsForm,
    RejectForm,
    new_idempotency_key,
)
from portouts.models import PortOut, PortOutStatus, RejectionCode, SupportingDocument
from portouts.roles import REVIEW_PERMISSION
from portouts.telnyx import APIError
from portouts.upload_handlers import DocumentSizeLimitHandler
from portouts.views import VERSION_HEADER, HtmxHttpRequest, shows_version

logger = logging.getLogger(__name__)

#: Filters shown in the first row of the list's form; the rest fold under "More filters".
PRIMARY_FILTERS = {"q", "status", "phone_number", "o"}
STATUS_HEADER = "X-Portout-Status"


def _can_review(request: HtmxHttpRequest) -> bool:
    return request.user.has_perm(REVIEW_PERMISSION)


def _require_review(request: HtmxHttpRequest) -> None:
    """Refuse before anything reaches Telnyx: deciding needs the Reviewer role."""
    if not _can_review(request):
        raise PermissionDenied("Only reviewers can act on port-outs.")


# -- list ------------------------------------------------------------------------------


def _columns(current: str) -> list[dict[str, object]]:
    """Header cells of the list: the `o` value each link sets and how it is sorted now."""
    columns = []
    for column in LIST_COLUMNS:
        param = column.order
        if current == param:
            order, direction = f"-{param}", "ascending"
        elif current == f"-{param}":
            order, direction = param, "descending"
        else:
            order, direction = param, ""
        columns.append(
            {
                "key": column.key,
                "label": column.label,
                "o": order,
                "dir": direction,
                "narrow_hidden": column.narrow_hidden,
            }
        )
    return columns


def _filter_fields(form: Any) -> list[dict[str, Any]]:
    """The secondary filters as plain values: hand-written inputs render far faster than
    Django's template-based widgets, and this form is drawn on every list page."""
    fields = []
    for name, field in form.fields.items():
        if name in PRIMARY_FILTERS:
            continue
        bound = form[name]
        value = bound.value()
        widget = field.widget
        if isinstance(widget, SelectMultiple):
            kind, value = "multi", [str(v) for v in (value or [])]
        else:
            kind = "date" if getattr(widget, "input_type", "") == "date" else "text"
            value = "" if value is None else str(value)
        fields.append(
            {
                "name": name,
                "label": field.label,
                "kind": kind,
                "value": value,
                "choices": [(str(v), label) for v, label in getattr(field, "choices", [])],
                "errors": form.errors.get(name, []) if form.is_bound else [],
            }
        )
    return fields


def _export_url(request: HtmxHttpRequest) -> str:
    if not request.user.has_perm("portouts.request_report"):
        return ""
    return reverse("portouts:report_create")


@require_GET
def portout_list(request: HtmxHttpRequest) -> HttpResponse:
    """Triage list with filters in the URL; htmx requests get only the results fragment."""
    version = selectors.cache_version()
    if shows_version(request, version):
        return HttpResponse(status=204)

    base = selectors.portout_list_base()
    filterset = PortOutFilter(request.GET or None, queryset=base)
    filter_errors: dict[str, Any] = {}
    if filterset.is_bound and not filterset.is_valid():
        # Keep the list usable: apply the filters that are valid, report the others.
        filter_errors = dict(filterset.errors)
        valid = request.GET.copy()
        for name in filter_errors:
            valid.pop(name, None)
        applied = PortOutFilter(valid, queryset=base)
        queryset = applied.qs if applied.is_valid() else PortOutFilter(None, queryset=base).qs
    else:
        queryset = filterset.qs

    options = ListOptionsForm(request.GET if request.GET.get("per_page") else None)
    if options.is_bound and not options.is_valid():
        filter_errors["per_page"] = options.errors["per_page"]
    paginator = selectors.CountCachedPaginator(queryset, options.page_size(), version=version)
    page = paginator.get_page(request.GET.get("page"))
    rows = selectors.list_rows(page.object_list)

    more_filters = _filter_fields(filterset.form)
    query = request.GET.copy()
    query.pop("page", None)
    current_o = request.GET.get("o", "") if "o" not in filter_errors else ""
    context = {
        "filter": filterset,
        "filter_errors": filter_errors,
        "options": options,
        "page": page,
        "rows": rows,
        "paginator": paginator,
        "columns": _columns(current_o),
        "more_filters": more_filters,
        "more_filters_open": bool(filter_errors) or any(f["value"] for f in more_filters),
        "status_choices": PortOutStatus.choices,
        "page_sizes": PAGE_SIZES,
        "per_page": options.page_size(),
        "current_o": current_o,
        "version": version,
        "query": query.urlencode(),
        "export_url": _export_url(request),
        "poll_headers": json.dumps({VERSION_HEADER: version}),
    }
    template = "portouts/list.html#results" if request.htmx else "portouts/list.html"
    return render(request, template, context)


# -- one port-out ------------------------------------------------------------------------


def _rejection_codes(request: HtmxHttpRequest, portout: PortOut) -> tuple[list[RejectionCode], str]:
    """Eligible codes for the picker, fetched from Telnyx when the cache has none."""
    codes = selectors.portout_rejection_codes(portout_id=portout.id)
    if codes or portout.status != PortOutStatus.PENDING or not _can_review(request):
        return codes, ""
    try:
        return review.load_rejection_codes(portout_id=portout.id), ""
    except APIError as exc:
        return [], "Rejection codes could not be loaded: " + review.describe_api_error(exc)


def _detail_context(request: HtmxHttpRequest, portout: PortOut, **extra: Any) -> dict[str, Any]:
    codes, codes_error = _rejection_codes(request, portout)
    version = selectors.portout_version(portout_id=portout.id)
    context: dict[str, Any] = {
        "portout": portout,
        "deadline": selectors.deadline_for(portout),
        "timeline": selectors.portout_timeline(portout_id=portout.id),
        "documents": selectors.portout_documents(portout_id=portout.id),
        "codes": codes,
        "codes_error": codes_error,
        "can_review": _can_review(request),
        "version": version,
        # Serialised here, escaped by the template: no value can break out of the JSON.
        "poll_headers": json.dumps({VERSION_HEADER: version, STATUS_HEADER: portout.status}),
        "authorize_form": AuthorizeForm(),
        "reject_form": RejectForm(codes=codes),
        "comment_form": CommentForm(initial={"idempotency_key": new_idempotency_key()}),
        "upload_form": DocumentUploadForm(initial={"idempotency_key": new_idempotency_key()}),
        "open_panel": "",
    }
    context.update(extra)
    return context


def _get_portout(portout_id: str) -> PortOut:
    return get_object_or_404(PortOut.objects.defer("raw"), id=portout_id)


DETAIL_PARTIALS = {"decision", "timeline", "documents", "comment_form", "upload_form"}


@require_GET
def portout_detail(request: HtmxHttpRequest, portout_id: str) -> HttpResponse:
    """Every field, the timeline, documents and the decision panel of one port-out."""
    if request.htmx and request.headers.get(VERSION_HEADER):
        return _poll_detail(request, portout_id)
    portout = _get_portout(portout_id)
    context = _detail_context(request, portout)
    partial = request.GET.get("partial", "")
    if request.htmx and partial in DETAIL_PARTIALS:
        return render(request, f"portouts/detail.html#{partial}", context)
    return render(request, "portouts/detail.html", context)


def _poll_detail(request: HtmxHttpRequest, portout_id: str) -> HttpResponse:
    """Polling: 204 when nothing changed, else the changed regions as out-of-band swaps."""
    if not PortOut.objects.filter(id=portout_id).exists():
        raise Http404("No such port-out")
    version = selectors.portout_version(portout_id=portout_id)
    if shows_version(request, version):
        return HttpResponse(status=204)
    portout = _get_portout(portout_id)
    # The decision panel may hold a half-filled form: redraw it only if the status moved.
    status_changed = request.headers.get(STATUS_HEADER) != portout.status
    context = _detail_context(request, portout, oob=True, with_decision=status_changed)
    return render(request, "portouts/detail.html#refresh", context)


def _decision_response(
    request: HtmxHttpRequest,
    portout: PortOut,
    *,
    notice: tuple[str, str] | None = None,
    status: int = 200,
    **extra: Any,
) -> HttpResponse:
    """The decision panel after a step: a fragment for htmx, else the whole page."""
    context = _detail_context(request, portout, notice=notice, **extra)
    if request.htmx:
        context["oob"] = True
        return render(request, "portouts/detail.html#decision_response", context, status=status)
    return render(request, "portouts/detail.html", context, status=status)


def _after_decision(
    request: HtmxHttpRequest, portout_id: str, result: review.ReviewResult
) -> HttpResponse:
    if result.ok and not request.htmx:
        messages.success(request, result.message)
        return redirect("portouts:detail", portout_id=portout_id)
    portout = result.portout or _get_portout(portout_id)
    level = "success" if result.ok else "error"
    return _decision_response(request, portout, notice=(level, result.message))


@require_POST
def portout_authorize(request: HtmxHttpRequest, portout_id: str) -> HttpResponse:
    """Authorize in two steps: review the choices, then confirm (one API call per confirm)."""
    _require_review(request)
    portout = _get_portout(portout_id)
    form = AuthorizeForm(request.POST)
    if not form.is_valid():
        return _decision_response(request, portout, authorize_form=form, open_panel="authorize")
    if request.POST.get("step") != "confirm" or not form.cleaned_data["idempotency_key"]:
        confirm = AuthorizeForm(
            initial={**form.cleaned_data, "idempotency_key": new_idempotency_key()}
        )
        return _decision_response(
            request,
            portout,
            confirm="authorize",
            confirm_form=confirm,
            note_to_send=form.cleaned_data["note"]
            or f"Authorized by {request.user.get_username()}",
            host_messaging=form.cleaned_data["host_messaging"],
        )
    result = review.portout_authorize(
        user=request.user,
        portout_id=portout_id,
        note=form.cleaned_data["note"],
        host_messaging=form.cleaned_data["host_messaging"],
        idempotency_key=form.cleaned_data["idempotency_key"],
    )
    return _after_decision(request, portout_id, result)


@require_POST
def portout_reject(request: HtmxHttpRequest, portout_id: str) -> HttpResponse:
    """Reject with an eligible code and a reason, in two steps like authorize."""
    _require_review(request)
    portout = _get_portout(portout_id)
    codes, _error = _rejection_codes(request, portout)
    form = RejectForm(request.POST, codes=codes)
    if not form.is_valid():
        return _decision_response(request, portout, reject_form=form, open_panel="reject")
    if request.POST.get("step") != "confirm" or not form.cleaned_data["idempotency_key"]:
        confirm = RejectForm(
            initial={**form.cleaned_data, "idempotency_key": new_idempotency_key()}, codes=codes
        )
        return _decision_response(
            request,
            portout,
            confirm="reject",
            confirm_form=confirm,
            chosen_code=form.code,
            reason_to_send=form.reason_to_send(),
        )
    code = form.code
    assert code is not None
    result = review.portout_reject(
        user=request.user,
        portout_id=portout_id,
        rejection_code=code.code,
        reason=form.cleaned_data["reason"],
        idempotency_key=form.cleaned_data["idempotency_key"],
    )
    return _after_decision(request, portout_id, result)


@require_POST
def portout_comment(request: HtmxHttpRequest, portout_id: str) -> HttpResponse:
    """Post a comment to Telnyx; it shows in the timeline from Telnyx's answer."""
    _require_review(request)
    portout = _get_portout(portout_id)
    form = CommentForm(request.POST)
    notice: tuple[str, str] | None = None
    if form.is_valid():
        result = review.portout_comment(
            user=request.user,
            portout_id=portout_id,
            body=form.cleaned_data["body"],
            idempotency_key=form.cleaned_data["idempotency_key"] or None,
        )
        if result.ok and not request.htmx:
            messages.success(request, result.message)
            return redirect(f"{reverse('portouts:detail', args=[portout_id])}#timeline")
        notice = ("success" if result.ok else "error", result.message)
        if result.ok:
            form = CommentForm(initial={"idempotency_key": new_idempotency_key()})
    context = _detail_context(request, portout, comment_form=form, comment_notice=notice)
    if request.htmx:
        context["oob"] = True
        return render(request, "portouts/detail.html#comment_response", context)
    return render(request, "portouts/detail.html", context)


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
    portout = _get_portout(portout_id)
    form = DocumentUploadForm(request.POST, request.FILES, too_large="file" in limit.too_large)
    notice: tuple[str, str] | None = None
    if form.is_valid():
        upload = form.cleaned_data["file"]
        result = review.portout_attach_document(
            user=request.user,
            portout_id=portout_id,
            document_type=form.cleaned_data["document_type"],
            filename=_safe_filename(upload.name),
            content=upload.read(),
            content_type=form.cleaned_data["content_type"],
            idempotency_key=form.cleaned_data["idempotency_key"] or None,
        )
        if result.ok and not request.htmx:
            messages.success(request, result.message)
            return redirect(f"{reverse('portouts:detail', args=[portout_id])}#documents")
        notice = ("success" if result.ok else "error", result.message)
        if result.ok:
            form = DocumentUploadForm(initial={"idempotency_key": new_idempotency_key()})
    context = _detail_context(request, portout, upload_form=form, upload_notice=notice)
    if request.htmx:
        context["oob"] = True
        return render(request, "portouts/detail.html#upload_response", context)
    return render(request, "portouts/detail.html", context)


def _safe_filename(name: str) -> str:
    name = re.sub(r"[^\w.\- ]+", "_", name.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]).strip()
    return name[:200] or "document"


class _Download:
    """The body of a download: iterates the Telnyx stream; `close()` releases it.

    Django calls `close()` when the response is closed, whether or not the body was read
    (client gone, an error page replacing it), so the connection always goes back.
    """

    def __init__(self, stack: ExitStack, chunks: Iterator[bytes]) -> None:
        self._stack = stack
        self._chunks = chunks

    def __iter__(self) -> Iterator[bytes]:
        return self._chunks

    def close(self) -> None:
        self._stack.close()


@require_GET
def document_download(
    request: HtmxHttpRequest, portout_id: str, document_id: str
) -> HttpResponseBase:
    """Stream a supporting document's bytes from Telnyx through the dashboard.

    Only the file types Telnyx accepts are passed on as such; anything else is sent as
    `application/octet-stream`, so the browser never renders it.
    """
    doc = get_object_or_404(
        SupportingDocument.objects.defer("raw"), portout_id=portout_id, document_id=document_id
    )
    client = review.interactive_client()
    stack = ExitStack()
    try:
        meta = client.get_document(doc.document_id)
        chunks = stack.enter_context(client.stream_document(doc.document_id))
    except APIError as exc:
        stack.close()
        messages.error(
            request, "The document could not be downloaded. " + review.describe_api_error(exc)
        )
        return redirect(f"{reverse('portouts:detail', args=[portout_id])}#documents")

    filename = _safe_filename(meta.filename or f"{doc.type}-{doc.document_id}")
    content_type = (meta.content_type or "").split(";", 1)[0].strip().lower()
    if content_type not in review.DOCUMENT_CONTENT_TYPES:
        content_type = "application/octet-stream"
    response = StreamingHttpResponse(_Download(stack, chunks), content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    response["X-Content-Type-Options"] = "nosniff"
    return response
