"""Admin of the watch list and expected port-outs (staff edit them here; each save or
delete reassesses the pending port-outs), and read-only views of flags, confirmations and
outcome labels."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from portouts.admin import ReadOnlyAdmin
from portouts.models import (
    ConfirmationRequest,
    ExpectedPortOut,
    PortOutOutcome,
    RiskFlag,
    WatchEntry,
)
from portouts.risk.forms import ExpectedPortOutForm
from portouts.risk.watchlist import risk_evidence_changed


class EvidenceAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Every change to these rows is evidence for the pending port-outs' flags."""

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        risk_evidence_changed()

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        super().delete_model(request, obj)
        risk_evidence_changed()

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        super().delete_queryset(request, queryset)
        risk_evidence_changed()


@admin.register(WatchEntry)
class WatchEntryAdmin(EvidenceAdmin):
    list_display = ["kind", "value", "source_portout_id", "added_by", "created_at"]
    list_filter = ["kind"]
    search_fields = ["value", "note"]
    fields = ["kind", "value", "note"]

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if not change:
            obj.added_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(ExpectedPortOut)
class ExpectedPortOutAdmin(EvidenceAdmin):
    list_display = [
        "__str__",
        "customer",
        "gaining_carrier",
        "valid_until",
        "created_by",
        "created_at",
    ]
    search_fields = ["note", "gaining_carrier", "customer__name"]
    form = ExpectedPortOutForm
    autocomplete_fields = ["customer"]
    list_select_related = ["customer", "created_by"]

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(RiskFlag)
class RiskFlagAdmin(ReadOnlyAdmin):
    list_display = ["portout_id", "kind", "severity", "sentence", "computed_at"]
    list_filter = ["kind", "severity"]
    search_fields = ["portout__id", "portout__support_key"]


@admin.register(ConfirmationRequest)
class ConfirmationRequestAdmin(ReadOnlyAdmin):
    list_display = ["portout_id", "sent_by", "sent_at", "answer_by", "answer", "answered_at"]
    exclude = ["token_id"]


@admin.register(PortOutOutcome)
class PortOutOutcomeAdmin(ReadOnlyAdmin):
    list_display = ["portout_id", "label", "labelled_by", "labelled_at"]
    list_filter = ["label"]
