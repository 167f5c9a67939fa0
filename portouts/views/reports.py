"""Reports: request local CSV exports and Telnyx reports, follow their progress, download them."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseStopPolling

from portouts import reports
from portouts.forms import TelnyxReportForm
from portouts.models import Report
from portouts.roles import REQUEST_REPORT_PERMISSION
from portouts.views import HtmxHttpRequest

#: Reports listed on the page (retention keeps the table short anyway).
PAGE_ROWS = 100
#: How often the page asks for progress while a report is queued or running.
POLL_SECONDS = 2
#: Sent (HX-Trigger) when a Telnyx report changed state since the page's last look: the
#: "Reports in Telnyx" panel reloads itself on it.
TELNYX_STALE_EVENT = "telnyx-reports-stale"


def _require_perm(request: HtmxHttpRequest) -> None:
    if not request.user.has_perm(REQUEST_REPORT_PERMISSION):
        raise PermissionDenied("You may not request reports.")


def _context(
    request: HtmxHttpRequest, *, form: TelnyxReportForm | None = None
) -> dict[str, object]:
    listing = reports.report_list(limit=PAGE_ROWS)
    return {
        "rows": listing.rows,
        "retention_days": listing.retention_days,
        "any_active": listing.any_active,
        "telnyx_state": listing.telnyx_state,
        "telnyx_stale_event": TELNYX_STALE_EVENT,
        "poll_seconds": POLL_SECONDS,
        "can_request": request.user.has_perm(REQUEST_REPORT_PERMISSION),
        "form": form or TelnyxReportForm(),
    }


@require_GET
def reports_page(request: HtmxHttpRequest) -> HttpResponse:
    """The reports page; htmx polls its report list while any report is unfinished."""
    context = _context(request)
    if request.htmx:
        response = render(request, "portouts/reports.html#report-list", context)
        if request.GET.get("seen", context["telnyx_state"]) != context["telnyx_state"]:
            response["HX-Trigger"] = TELNYX_STALE_EVENT
        if not context["any_active"]:
            # 286 tells htmx to stop polling; the final state is still swapped in.
            response.status_code = HttpResponseStopPolling.status_code
        return response
    return render(request, "portouts/reports.html", context)


@require_GET
def telnyx_reports(request: HtmxHttpRequest) -> HttpResponse:
    """Telnyx's own report list, fetched live (loaded into the page by htmx)."""
    listing = reports.telnyx_report_list()
    return render(
        request,
        "portouts/reports.html#telnyx-list",
        {
            "telnyx_rows": reports.telnyx_rows(listing),
            "telnyx_error": listing.error,
            "telnyx_stale_event": TELNYX_STALE_EVENT,
        },
    )


@require_POST
def report_create(request: HtmxHttpRequest) -> HttpResponse:
    """The list's "Export CSV": queue a local export of what the list shows."""
    _require_perm(request)
    query = request.POST.get("query", "")[:4000]
    try:
        reports.report_request_local(user=request.user, query=query)
    except reports.InvalidFilters as exc:
        messages.error(request, f"Nothing was exported. {exc}")
        return _back_to_list(query)
    messages.success(
        request, "The export is queued; it appears below and can be downloaded when complete."
    )
    return redirect("portouts:reports")


def _back_to_list(query: str) -> HttpResponse:
    url = reverse("portouts:list")
    return HttpResponseRedirect(f"{url}?{query.lstrip('?')}" if query else url)


@require_POST
def telnyx_report_create(request: HtmxHttpRequest) -> HttpResponse:
    """Ask Telnyx to build an `export_portouts_csv` report with the form's filters."""
    _require_perm(request)
    form = TelnyxReportForm(request.POST)
    if not form.is_valid():
        messages.error(request, "The Telnyx report was not requested: correct the filters.")
        return render(request, "portouts/reports.html", _context(request, form=form), status=400)
    filters = reports.telnyx_filters(**form.cleaned_data)
    report = reports.telnyx_report_create(user=request.user, filters=filters)
    if report.status == Report.Status.FAILED:
        messages.error(request, report.error)
    else:
        messages.success(
            request,
            "Telnyx is building the report; it is downloaded here as soon as it is ready.",
        )
    return redirect("portouts:reports")


@require_POST
def report_retry(request: HtmxHttpRequest, report_id: str) -> HttpResponse:
    _require_perm(request)
    report = get_object_or_404(Report, pk=report_id)
    try:
        report = reports.report_retry(report=report)
    except reports.ReportNotRetryable as exc:
        messages.info(request, str(exc))
        return redirect("portouts:reports")
    if report.status == Report.Status.FAILED:
        messages.error(request, report.error)
    else:
        messages.success(request, "The report was started again.")
    return redirect("portouts:reports")


@require_GET
def report_download(request: HtmxHttpRequest, report_id: str) -> FileResponse:
    """Stream a completed report's file (never loaded into memory)."""
    report = get_object_or_404(Report, pk=report_id)
    try:
        found = reports.report_file_open(report=report)
    except reports.ReportFileUnavailable as exc:
        raise Http404(str(exc)) from exc
    return FileResponse(
        found.handle,
        as_attachment=True,
        filename=found.filename,
        content_type="text/csv; charset=utf-8",
    )
