"""The port-out list, one port-out's page (with its polling) and document downloads.

Pages are rendered on the server; htmx requests get the named fragment of the same
template (`list.html#results`, `detail.html#timeline`, ...). The actions taken from a
port-out's page are in `portouts.views.review`.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.forms import SelectMultiple
from django.http import (
    Http404,
    HttpResponse,
    HttpResponseBase,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.functional import SimpleLazyObject
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET

from portouts import queue, selectors, timeline
from portouts.choices import LIST_COLUMNS, TimeLeft
from portouts.downloads import DocumentUnavailable, supporting_document_open
from portouts.evidence.selectors import portout_evidence
from portouts.filters import PortOutFilter
from portouts.form_text import labelled_errors
from portouts.forms import (
    PAGE_SIZES,
    AuthorizeForm,
    CommentForm,
    DocumentUploadForm,
    InternalNoteForm,
    ListOptionsForm,
    RejectForm,
    new_idempotency_key,
)
from portouts.models import PortOut, PortOutStatus, SupportingDocument
from portouts.review import approvals, presence, rules
from portouts.risk.selectors import risk_panel
from portouts.roles import REQUEST_REPORT_PERMISSION, REVIEW_PERMISSION
from portouts.views import (
    VERSION_HEADER,
    HtmxHttpRequest,
    fragment_headers,
    shows_version,
    wants_fragment,
)

logger = logging.getLogger(__name__)

#: Filters shown in the first row of the list's form; the rest fold under "More filters".
PRIMARY_FILTERS = {"q", "status", "time_left", "phone_number", "o"}
STATUS_HEADER = "X-Portout-Status"
#: Timeline entries shown before "Show all": the latest turns, few enough to keep the
#: timeline on the first screen of a port-out's page.
TIMELINE_FIRST = 5


def can_review(request: HtmxHttpRequest) -> bool:
    return request.user.has_perm(REVIEW_PERMISSION)


# -- list ------------------------------------------------------------------------------


def _columns(current: str) -> list[dict[str, object]]:
    """Header cells of the list: the `o` value each link sets and how it is sorted now."""
    columns = []
    for column in LIST_COLUMNS:
        param = column.order
        if not param:
            order, direction = "", ""
        elif current == param:
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
    if not request.user.has_perm(REQUEST_REPORT_PERMISSION):
        return ""
    return reverse("portouts:report_create")


@require_GET
def portout_list(request: HtmxHttpRequest) -> HttpResponse:
    """Triage list with filters in the URL; htmx requests get only the results fragment."""
    version = selectors.cache_version()
    if shows_version(request, version):
        return fragment_headers(request, HttpResponse(status=204))

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
    # Shown under the fields' labels, never their names in the address.
    filter_error_list = labelled_errors(filterset.form, options) if filter_errors else []
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
        "filter_error_list": filter_error_list,
        "options": options,
        "page": page,
        "rows": rows,
        "paginator": paginator,
        "columns": _columns(current_o),
        "more_filters": more_filters,
        "more_filters_open": bool(filter_errors) or any(f["value"] for f in more_filters),
        "status_choices": PortOutStatus.choices,
        "time_left_choices": TimeLeft.choices,
        "page_sizes": PAGE_SIZES,
        "per_page": options.page_size(),
        "current_o": current_o,
        "version": version,
        "query": query.urlencode(),
        "export_url": _export_url(request),
        "poll_headers": json.dumps({VERSION_HEADER: version}),
    }
    template = "portouts/list.html#results" if wants_fragment(request) else "portouts/list.html"
    return fragment_headers(request, render(request, template, context))


# -- one port-out ------------------------------------------------------------------------


def detail_context(
    request: HtmxHttpRequest,
    portout: PortOut,
    *,
    codes: rules.EligibleCodes | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """Everything the page and its fragments show; `codes` when the request read them already
    (the page itself never asks Telnyx for them)."""
    if codes is None:
        codes = rules.eligible_codes(portout_id=portout.id)
    present = extra.pop("presence", None) or presence.presence_touch(
        portout_id=portout.id, user=request.user
    )
    version = selectors.portout_version(portout_id=portout.id) + present.token
    reviewing, pending = can_review(request), portout.status == PortOutStatus.PENDING
    history = timeline.portout_history(portout=portout)
    context: dict[str, Any] = {
        "portout": portout,
        "deadline": selectors.deadline_for(portout),
        "timeline": history.entries[:TIMELINE_FIRST],
        "timeline_more": history.entries[TIMELINE_FIRST:],
        "timeline_count": len(history.entries),
        "attempted_pin": history.attempted_pin,
        "documents": selectors.portout_documents(portout_id=portout.id),
        "risk": risk_panel(portout=portout),
        # Read once, and only by a render that shows the verification panel.
        "evidence": SimpleLazyObject(lambda: portout_evidence(portout)),
        "codes": codes,
        "can_review": reviewing,
        "version": version,
        # Serialised here, escaped by the template: no value can break out of the JSON.
        "poll_headers": json.dumps({VERSION_HEADER: version, STATUS_HEADER: portout.status}),
        "authorize_form": AuthorizeForm(username=request.user.get_username()),
        "reject_form": RejectForm(codes=codes),
        "comment_form": CommentForm(initial={"idempotency_key": new_idempotency_key()}),
        "upload_form": DocumentUploadForm(initial={"idempotency_key": new_idempotency_key()}),
        "open_panel": "",
        # The authorize panel is open on arrival (unfocused, so the page's keys still work)
        # for a reviewer while a decision is owed; after one, the next port-out is offered.
        "arrival_open": reviewing and pending,
        "next_portout": None
        if pending or not reviewing
        else queue.next_pending(exclude=portout.id),
        "presence": present,
        "waiting_decision": approvals.waiting_decision(portout_id=portout.id),
        "two_person_rule": settings.TWO_PERSON_RULE,
        "note_form": InternalNoteForm(),
    }
    context.update(extra)
    return context


def get_portout(portout_id: str) -> PortOut:
    return get_object_or_404(selectors.portout_page_rows(), id=portout_id)


DETAIL_PARTIALS = {"decision", "timeline", "documents", "comment_form", "upload_form"}


@require_GET
def portout_detail(request: HtmxHttpRequest, portout_id: str) -> HttpResponse:
    """Every field, the timeline, documents and the decision panel of one port-out."""
    if wants_fragment(request) and request.headers.get(VERSION_HEADER):
        return fragment_headers(request, _poll_detail(request, portout_id))
    portout = get_portout(portout_id)
    context = detail_context(request, portout)
    partial = request.GET.get("partial", "")
    if wants_fragment(request) and partial in DETAIL_PARTIALS:
        template = f"portouts/detail.html#{partial}"
    else:
        template = "portouts/detail.html"
    return fragment_headers(request, render(request, template, context))


def _poll_detail(request: HtmxHttpRequest, portout_id: str) -> HttpResponse:
    """Polling: 204 when nothing changed, else the changed regions as out-of-band swaps."""
    if not PortOut.objects.filter(id=portout_id).exists():
        raise Http404("No such port-out")
    # The refresh also keeps the reader present, and brings the others' presence.
    present = presence.presence_touch(portout_id=portout_id, user=request.user)
    version = selectors.portout_version(portout_id=portout_id) + present.token
    if shows_version(request, version):
        return HttpResponse(status=204)
    portout = get_portout(portout_id)
    # The decision panel may hold a half-filled form: redraw it only if the status moved.
    status_changed = request.headers.get(STATUS_HEADER) != portout.status
    context = detail_context(
        request, portout, oob=True, with_decision=status_changed, presence=present
    )
    return render(request, "portouts/detail.html#refresh", context)


@require_GET
def document_download(
    request: HtmxHttpRequest, portout_id: str, document_id: str
) -> HttpResponseBase:
    """A supporting document's bytes, streamed from Telnyx (`portouts.downloads`)."""
    doc = get_object_or_404(
        SupportingDocument.objects.defer("raw"), portout_id=portout_id, document_id=document_id
    )
    try:
        stream = supporting_document_open(document=doc)
    except DocumentUnavailable as exc:
        messages.error(request, str(exc))
        return redirect(f"{reverse('portouts:detail', args=[portout_id])}#documents")
    response = StreamingHttpResponse(stream, content_type=stream.content_type)
    response["Content-Disposition"] = content_disposition_header(True, stream.filename)
    response["X-Content-Type-Options"] = "nosniff"
    return response
