"""Reports: request local CSV exports and Telnyx reports, follow their progress, download them."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseStopPolling

from portouts import reports as report_service
from portouts.forms import TelnyxReportForm
from portouts.models import Report
from portouts.views import HtmxHttpRequest

REQUEST_PERMISSION = "portouts.request_report"
#: Reports listed on the page (retention keeps the table short anyway).
PAGE_ROWS = 100
#: How often the page asks for progress while a report is queued or running.
POLL_SECONDS = 2
ACTIVE = (Report.Status.QUEUED, Report.Status.RUNNING)


def _require_perm(request: HtmxHttpRequest) -> None:
    if not request.user.has_perm(REQUEST_PERMISSION):
        raise PermissionDenied("You may not request reports.")


def _context(
    request: HtmxHttpRequest, *, form: TelnyxReportForm | None = None
) -> dict[str, object]:
    rows = list(Report.objects.select_related("requested_by").order_by("-created_at")[:PAGE_ROWS])
    return {
        "rows": [(r, report_service.filter_labels(r.filters)) for r in rows],
        "retention_days": report_service.retention().days,
        "any_active": any(r.status in ACTIVE for r in rows),
        "poll_seconds": POLL_SECONDS,
        "can_request": request.user.has_perm(REQUEST_PERMISSION),
        "form": form or TelnyxReportForm(),
    }


@require_GET
def reports_page(request: HtmxHttpRequest) -> HttpResponse:
    """The reports page; htmx polls its report list while any report is unfinished."""
    context = _context(request)
    if request.htmx:
        response = render(request, "portouts/reports.html#report-list", context)
        if not context["any_active"]:
            # 286 tells htmx to stop polling; the final state is still swapped in.
            response.status_code = HttpResponseStopPolling.status_code
        return response
    return render(request, "portouts/reports.html", context)


@require_GET
def telnyx_reports(request: HtmxHttpRequest) -> HttpResponse:
    """Telnyx's own report list, fetched live (loaded into the page by htmx)."""
    listing = report_service.list_telnyx_reports()
    return render(
        request,
        "portouts/reports.html#telnyx-list",
        {"telnyx_reports": listing.reports, "telnyx_error": listing.error},
    )


@require_POST
def report_create(request: HtmxHttpRequest) -> HttpResponse:
    """The list's "Export CSV": queue a local export of what the list shows."""
    _require_perm(request)
    query = request.POST.get("query", "")[:4000]
    try:
        report_service.request_local_report(user=request.user, query=query)
    except report_service.InvalidFilters as exc:
        messages.error(request, f"Nothing was exported. {exc}")
        return _back_to_list(query)
    messages.success(
        request, "The export is queued; it appears below and can be downloaded when complete."
    )
    return redirect("portouts:reports")


def _back_to_list(query: str) -> HttpResponse:
    try:
        url = reverse("portouts:list")
    except NoReverseMatch:
        return redirect("portouts:reports")
    return HttpResponseRedirect(f"{url}?{query.lstrip('?')}" if query else url)


@require_POST
def telnyx_report_create(request: HtmxHttpRequest) -> HttpResponse:
    """Ask Telnyx to build an `export_portouts_csv` report with the form's filters."""
    _require_perm(request)
    form = TelnyxReportForm(request.POST)
    if not form.is_valid():
        messages.error(request, "The Telnyx report was not requested: correct the filters.")
        return render(request, "portouts/reports.html", _context(request, form=form), status=400)
    data = form.cleaned_data
    filters = report_service.telnyx_filters(
        status_in=data["statuses"],
        created_after=data["created_after"],
        created_before=data["created_before"],
        phone_numbers=data["phone_numbers"],
        end_user_name=data["end_user_name"],
        customer_references=data["customer_references"],
    )
    report = report_service.request_telnyx_report(user=request.user, filters=filters)
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
    if report.status != Report.Status.FAILED:
        messages.info(request, "Only a failed report can be retried.")
        return redirect("portouts:reports")
    report = report_service.retry_report(report=report)
    if report.status == Report.Status.FAILED:
        messages.error(request, report.error)
    else:
        messages.success(request, "The report was started again.")
    return redirect("portouts:reports")


@require_GET
def report_download(request: HtmxHttpRequest, report_id: str) -> FileResponse:
    """Stream a completed report's file (never loaded into memory)."""
    report = get_object_or_404(Report, pk=report_id)
    if report.status != Report.Status.COMPLETED or not report.file.name:
        raise Http404("This report has no file to download.")
    try:
        handle = default_storage.open(report.file.name, "rb")
    except FileNotFoundError as exc:
        raise Http404("The report's file is gone (it may have expired).") from exc
    prefix = "telnyx-report" if report.kind == Report.Kind.TELNYX else "portouts"
    filename = f"{prefix}-{report.created_at:%Y%m%d-%H%M}.csv"
    return FileResponse(
        handle, as_attachment=True, filename=filename, content_type="text/csv; charset=utf-8"
    )
