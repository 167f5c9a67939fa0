"""Admin of alerts: channels (target write-only, masked), rules with their routes (a rule
needs recipients), and the delivery log read-only."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from portouts.alerts.channels import channel_save
from portouts.alerts.forms import ChannelForm, RouteForm, RouteInlineFormSet
from portouts.models import AlertChannel, AlertRoute, AlertRule, Notification


@admin.register(AlertChannel)
class AlertChannelAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    form = ChannelForm
    list_display = ["name", "kind", "target_masked", "enabled"]
    readonly_fields = ["target_masked"]

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        channel_save(obj, form.cleaned_data.get("target") or None)


class AlertRouteInline(admin.StackedInline):  # type: ignore[type-arg]
    model = AlertRoute
    form = RouteForm
    formset = RouteInlineFormSet
    extra = 1
    filter_horizontal = ["users", "channels"]


@admin.register(AlertRule)
class AlertRuleAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["name", "kind", "enabled", "thresholds_hours", "business_timezone"]
    list_filter = ["kind", "enabled"]
    inlines = [AlertRouteInline]


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["created_at", "title", "channel", "user", "state", "attempts", "last_error"]
    list_filter = ["state", "kind", "channel"]
    search_fields = ["portout__id", "portout__support_key", "title"]
    exclude = ["body"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
