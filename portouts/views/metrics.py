"""The metrics page: how the team is doing over a period, its CSV tables, the port-outs
authorized by timeout, and (staff) the weekly summary's settings."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
    StreamingHttpResponse,
)
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from portouts.metrics.charts import metrics_charts
from portouts.metrics.forms import WeeklySummaryForm
from portouts.metrics.periods import PeriodForm
from portouts.metrics.selectors import metrics_for, timeouts_in
from portouts.metrics.tables import TABLE_NAMES, metrics_tables, table_csv
from portouts.metrics.weekly import weekly_summary_recipients
from portouts.models import WeeklySummarySettings


def _period_form(request: HttpRequest) -> PeriodForm:
    form = PeriodForm(request.GET or None)
    if not request.GET:
        form = PeriodForm({"last": "30"})
    form.is_valid()
    return form


@require_GET
def metrics_page(request: HttpRequest) -> HttpResponse:
    form = _period_form(request)
    context: dict[str, object] = {"form": form}
    if request.user.is_staff:
        config = WeeklySummarySettings.load()
        context["weekly_form"] = WeeklySummaryForm(instance=config)
        context["weekly_recipients"] = len(weekly_summary_recipients(config))
    if not form.is_valid():
        return render(request, "portouts/metrics.html", context, status=400)
    period = form.cleaned_data["period"]
    metrics = metrics_for(period)
    tables = metrics_tables(metrics)
    charts = metrics_charts(metrics)
    context |= {
        "metrics": metrics,
        "period": period,
        "tables": tables,
        "sections": [(tables[name], charts.get(name)) for name in TABLE_NAMES],
    }
    return render(request, "portouts/metrics.html", context)


def metrics_export(request: HttpRequest, table: str) -> HttpResponse | StreamingHttpResponse:
    # An unknown table is a 404 whatever the method, like an unknown id anywhere else.
    if table not in TABLE_NAMES:
        raise Http404("No such table.")
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    form = _period_form(request)
    if not form.is_valid():
        return render(request, "portouts/metrics.html", {"form": form}, status=400)
    period = form.cleaned_data["period"]
    rows = metrics_tables(metrics_for(period))[table]
    response = StreamingHttpResponse(table_csv(rows), content_type="text/csv; charset=utf-8")
    name = f"portout-metrics-{table}-{period.start:%Y%m%d}-{period.end:%Y%m%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@require_GET
def metrics_timeouts(request: HttpRequest) -> HttpResponse:
    form = _period_form(request)
    if not form.is_valid():
        return render(request, "portouts/metrics.html", {"form": form}, status=400)
    period = form.cleaned_data["period"]
    return render(
        request,
        "portouts/metrics_timeouts.html",
        {"form": form, "period": period, "portouts": timeouts_in(period)},
    )


@require_POST
def metrics_weekly(request: HttpRequest) -> HttpResponse:
    if not request.user.is_staff:
        raise PermissionDenied("Only staff change the weekly summary.")
    form = WeeklySummaryForm(request.POST, instance=WeeklySummarySettings.load())
    if form.is_valid():
        form.save()
        messages.success(request, "Weekly summary settings saved.")
    else:
        messages.error(request, " ".join(str(m) for e in form.errors.values() for m in e))
    return redirect(reverse("portouts:metrics") + "#weekly")
