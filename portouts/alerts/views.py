"""Pages of alerts: Take/Release a port-out, my alerts (and marking them read), my
preferences; for staff the delivery log and the channels settings."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from portouts.alerts import selectors
from portouts.alerts.channels import channel_save
from portouts.alerts.claims import ClaimRefused, portout_claim_release, portout_claim_take
from portouts.alerts.forms import ChannelForm, PreferenceForm
from portouts.choices import NotificationState
from portouts.models import AlertChannel, AlertPreference, AlertRule, Notification, PortOut
from portouts.roles import REVIEW_PERMISSION


def _staff(request: HttpRequest) -> None:
    if not request.user.is_staff:
        raise PermissionDenied("Only staff see the delivery log and the channels.")


@require_POST
def claim_take(request: HttpRequest, portout_id: str) -> HttpResponse:
    if not request.user.has_perm(REVIEW_PERMISSION):
        raise PermissionDenied("Only reviewers take port-outs.")
    get_object_or_404(PortOut, pk=portout_id)
    try:
        portout_claim_take(portout_id, request.user)  # type: ignore[arg-type]
        messages.success(request, "You took this port-out; others see it is yours.")
    except ClaimRefused as exc:
        messages.error(request, str(exc))
    return redirect("portouts:detail", portout_id)


@require_POST
def claim_release(request: HttpRequest, portout_id: str) -> HttpResponse:
    if not request.user.has_perm(REVIEW_PERMISSION):
        raise PermissionDenied("Only reviewers release port-outs.")
    if portout_claim_release(portout_id, request.user):  # type: ignore[arg-type]
        messages.success(request, "Released: anyone may take this port-out now.")
    return redirect("portouts:detail", portout_id)


@require_http_methods(["GET", "POST"])
def my_alerts(request: HttpRequest) -> HttpResponse:
    """My alerts, newest first; POST marks them all read."""
    if request.method == "POST":
        Notification.objects.filter(user_id=request.user.pk or 0, read_at=None).update(
            read_at=timezone.now()
        )
        return redirect("portouts:my_alerts")
    return render(
        request, "alerts/mine.html", {"alerts": selectors.my_alerts(request.user.pk or 0)}
    )


@require_http_methods(["GET", "POST"])
def preferences(request: HttpRequest) -> HttpResponse:
    pref = AlertPreference.objects.filter(user_id=request.user.pk or 0).first()
    pref = pref or AlertPreference(user_id=request.user.pk or 0)
    form = PreferenceForm(request.POST or None, instance=pref)
    form.fields["muted_rules"].queryset = AlertRule.objects.filter(enabled=True)  # type: ignore[attr-defined]
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Your alert preferences are saved.")
        return redirect("portouts:alert_preferences")
    return render(
        request, "alerts/preferences.html", {"form": form}, status=400 if form.errors else 200
    )


@require_GET
def delivery_log(request: HttpRequest) -> HttpResponse:
    _staff(request)
    filters = selectors.LogFilters(
        state=request.GET.get("state", ""),
        channel=request.GET.get("channel", ""),
        rule=request.GET.get("rule", ""),
        portout=request.GET.get("portout", "").strip(),
    )
    page = Paginator(selectors.delivery_log(filters), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "alerts/log.html",
        {
            "page": page,
            "filters": filters,
            "states": NotificationState.choices,
            "channels": AlertChannel.objects.only("id", "name"),
            "rules": AlertRule.objects.only("id", "name"),
        },
    )


@require_http_methods(["GET", "POST"])
def channels_page(request: HttpRequest) -> HttpResponse:
    """Channels, masked; a form adds one (a malformed URL is refused with a message)."""
    _staff(request)
    form = ChannelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        channel = form.save(commit=False)
        channel_save(channel, form.cleaned_data.get("target") or None)
        messages.success(request, f"Channel {channel.name} saved.")
        return redirect("portouts:alert_channels")
    context = {"form": form, "channels": AlertChannel.objects.all()}
    return render(request, "alerts/channels.html", context, status=400 if form.errors else 200)
