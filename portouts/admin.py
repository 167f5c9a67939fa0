"""Admin site: every model, for staff who need to look under the hood.

Telnyx owns port-outs, their numbers, comments, documents, rejection codes and events:
the sync writes them, so the admin only shows them (no add, change or delete). The audit
trail (review actions), internal notes, rejections prepared under the two-person rule and
sync runs are read-only records too; reports may be deleted.
Customer records are the team's own: edited here and imported from CSV.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from import_export.admin import ImportExportModelAdmin

from portouts import reports
from portouts.evidence.customers import CustomerResource
from portouts.models import (
    Comment,
    Customer,
    CustomerNumber,
    InternalNote,
    PendingDecision,
    PhoneNumber,
    PortOut,
    PortOutEvent,
    PortOutNumber,
    RejectionCode,
    Report,
    ReviewAction,
    SupportingDocument,
    SyncRun,
)


class ReadOnlyMixin:
    """Shown, never written from the admin: every field read-only, no add/change/delete."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyAdmin(ReadOnlyMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    pass


class ReadOnlyInline(ReadOnlyMixin, admin.TabularInline):  # type: ignore[type-arg]
    extra = 0
    show_change_link = True
    can_delete = False


class CommentInline(ReadOnlyInline):
    model = Comment
    fields = ["created_at", "author", "body"]
    readonly_fields = ["created_at", "author", "body"]

    @admin.display(description="by")
    def author(self, obj: Comment) -> str:
        return f"{Comment.author(obj.user_id, obj.portout.user_id).label} {obj.user_id}".strip()


class SupportingDocumentInline(ReadOnlyInline):
    model = SupportingDocument
    fields = ["type", "document_id", "created_at"]
    readonly_fields = ["type", "document_id", "created_at"]


class RejectionCodeInline(ReadOnlyInline):
    model = RejectionCode
    fields = ["code", "description", "reason_required"]
    readonly_fields = ["code", "description", "reason_required"]
    show_change_link = False


class ReviewActionInline(ReadOnlyInline):
    model = ReviewAction
    fk_name = "portout"
    fields = ["created_at", "kind", "user", "outcome", "error"]
    readonly_fields = ["created_at", "kind", "user", "outcome", "error"]


class PortOutNumberInline(ReadOnlyInline):
    model = PortOutNumber
    fields = ["number"]
    readonly_fields = ["number"]
    show_change_link = False


class VanishedFilter(admin.SimpleListFilter):
    title = "listed by Telnyx"
    parameter_name = "vanished"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("no", "Still listed"), ("yes", "Vanished")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "no":
            return queryset.filter(vanished_at__isnull=True)
        if self.value() == "yes":
            return queryset.filter(vanished_at__isnull=False)
        return queryset


@admin.register(PortOut)
class PortOutAdmin(ReadOnlyAdmin):
    list_display = [
        "support_key",
        "status",
        "first_number",
        "number_count",
        "carrier_name",
        "end_user_name",
        "foc_date",
        "created_at",
        "synced_at",
        "is_listed",
    ]
    list_filter = ["status", VanishedFilter, "country_code", "host_messaging", "carrier_name"]
    search_fields = ["=id", "support_key", "pon", "end_user_name", "=numbers__number", "spid"]
    date_hierarchy = "created_at"
    readonly_fields = ["events"]
    inlines = [
        PortOutNumberInline,
        CommentInline,
        SupportingDocumentInline,
        RejectionCodeInline,
        ReviewActionInline,
    ]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "id",
                    "status",
                    "support_key",
                    "phone_numbers",
                    "country_code",
                    "foc_date",
                    "requested_foc_date",
                    "reason",
                    "rejection_code",
                ]
            },
        ),
        (
            "Gaining carrier and end user",
            {
                "fields": [
                    "carrier_name",
                    "spid",
                    "current_carrier",
                    "pon",
                    "end_user_name",
                    "authorized_name",
                    "service_address",
                    "city",
                    "state",
                    "zip",
                    "lsr",
                    "host_messaging",
                    "already_ported",
                    "vendor",
                    "user_id",
                ]
            },
        ),
        (
            "Dates",
            {"fields": ["created_at", "inserted_at", "updated_at", "ported_out_at"]},
        ),
        (
            "Cache",
            {"fields": ["synced_at", "details_synced_at", "vanished_at", "raw"]},
        ),
        ("Events", {"fields": ["events"]}),
    ]

    @admin.display(boolean=True, description="listed", ordering="vanished_at")
    def is_listed(self, obj: PortOut) -> bool:
        return obj.vanished_at is None

    @admin.display(description="events (newest first)")
    def events(self, obj: PortOut) -> str:
        """Events name their port-out by id (no foreign key), so they are looked up here."""
        events = PortOutEvent.objects.filter(portout_id=obj.id).order_by("-created_at")[:50]
        rows = format_html_join(
            "",
            '<tr><td><a href="{}">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>',
            (
                (
                    reverse("admin:portouts_portoutevent_change", args=[e.pk]),
                    e.created_at or "",
                    e.event_type,
                    e.get_source_display(),
                    e.payload.get("status") or e.payload.get("foc_date") or "",
                    e.processed_at or "not yet",
                )
                for e in events
            ),
        )
        if not rows:
            return "No events."
        return format_html(
            "<table><thead><tr><th>created</th><th>type</th><th>source</th><th>value</th>"
            "<th>processed</th></tr></thead><tbody>{}</tbody></table>",
            rows,
        )


@admin.register(PortOutNumber)
class PortOutNumberAdmin(ReadOnlyAdmin):
    list_display = ["number", "portout"]
    list_select_related = ["portout"]
    search_fields = ["number", "=portout__id", "portout__support_key"]
    list_filter = ["portout__status"]
    date_hierarchy = "portout__created_at"


@admin.register(Comment)
class CommentAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "portout", "user_id", "short_body"]
    list_select_related = ["portout"]
    list_filter = [("user_id", admin.EmptyFieldListFilter)]
    search_fields = ["body", "=portout__id", "portout__support_key", "=id"]
    date_hierarchy = "created_at"

    @admin.display(description="comment")
    def short_body(self, obj: Comment) -> str:
        return obj.body[:80]


@admin.register(SupportingDocument)
class SupportingDocumentAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "type", "document_id", "portout"]
    list_select_related = ["portout"]
    list_filter = ["type"]
    search_fields = ["=id", "=document_id", "=portout__id", "portout__support_key"]
    date_hierarchy = "created_at"


@admin.register(RejectionCode)
class RejectionCodeAdmin(ReadOnlyAdmin):
    list_display = ["code", "description", "reason_required", "portout"]
    list_select_related = ["portout"]
    list_filter = ["code", "reason_required"]
    search_fields = ["description", "=portout__id", "portout__support_key"]
    date_hierarchy = "portout__created_at"


@admin.register(PortOutEvent)
class PortOutEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "event_type", "portout_link", "source", "processed_at"]
    list_filter = ["event_type", "source", ("processed_at", admin.EmptyFieldListFilter)]
    search_fields = ["=id", "=portout_id"]
    date_hierarchy = "created_at"

    @admin.display(description="port-out", ordering="portout_id")
    def portout_link(self, obj: PortOutEvent) -> str:
        if not obj.portout_id:
            return "-"
        url = reverse("admin:portouts_portout_change", args=[obj.portout_id])
        return format_html('<a href="{}">{}</a>', url, obj.portout_id)


@admin.register(ReviewAction)
class ReviewActionAdmin(ReadOnlyAdmin):
    """The audit trail: never edited or deleted, even by superusers."""

    list_display = ["created_at", "kind", "user", "portout", "outcome", "finished_at"]
    list_select_related = ["user", "portout"]
    list_filter = ["kind", "outcome"]
    search_fields = ["=portout__id", "portout__support_key", "user__username", "error"]
    date_hierarchy = "created_at"


@admin.register(InternalNote)
class InternalNoteAdmin(ReadOnlyAdmin):
    """Team-only notes: written on the port-out's page, never here."""

    list_display = ["created_at", "author", "portout"]
    list_select_related = ["author", "portout"]
    search_fields = ["=portout__id", "portout__support_key", "author__username", "body"]
    date_hierarchy = "created_at"


@admin.register(PendingDecision)
class PendingDecisionAdmin(ReadOnlyAdmin):
    """Rejections under the two-person rule: who prepared, who approved, what became of it."""

    list_display = ["prepared_at", "portout", "rejection_code", "prepared_by", "state"]
    list_select_related = ["portout", "prepared_by"]
    list_filter = ["state"]
    search_fields = ["=portout__id", "portout__support_key", "prepared_by__username"]
    date_hierarchy = "prepared_at"


@admin.register(SyncRun)
class SyncRunAdmin(ReadOnlyAdmin):
    list_display = [
        "started_at",
        "kind",
        "status",
        "triggered_by",
        "progress_done",
        "progress_total",
        "api_requests",
        "finished_at",
        "short_error",
    ]
    list_filter = ["kind", "status"]
    search_fields = ["triggered_by", "error"]
    date_hierarchy = "started_at"

    @admin.display(description="error")
    def short_error(self, obj: SyncRun) -> str:
        return obj.error[:100]


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Reports are made from the dashboard; here they can be looked at and deleted."""

    list_display = [
        "created_at",
        "kind",
        "status",
        "requested_by",
        "rows_done",
        "size",
        "expires_at",
    ]
    list_select_related = ["requested_by"]
    list_filter = ["kind", "status"]
    search_fields = ["=id", "requested_by__username", "telnyx_report_id", "error"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def delete_model(self, request: HttpRequest, obj: Report) -> None:
        reports.report_delete(report=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Report]) -> None:
        for report in queryset:
            reports.report_delete(report=report)


# -- the number inventory (Telnyx's, read-only) and the team's customer records ----------


@admin.register(PhoneNumber)
class PhoneNumberAdmin(ReadOnlyAdmin):
    list_display = ["number", "status", "customer_reference", "source", "purchased_at", "synced_at"]
    list_filter = ["status", "source"]
    search_fields = ["=number", "customer_reference"]


class CustomerNumberInline(admin.TabularInline):  # type: ignore[type-arg]
    model = CustomerNumber
    extra = 1


@admin.register(Customer)
class CustomerAdmin(ImportExportModelAdmin):  # type: ignore[misc]
    """Edited here; imported from CSV with a preview (the same rules as `import_customers`)."""

    resource_classes = [CustomerResource]
    list_display = ["name", "account_number", "customer_reference", "city", "portout_freeze_until"]
    search_fields = ["name", "=account_number", "=customer_reference", "contact_email"]
    list_filter = ["state"]
    inlines = [CustomerNumberInline]


# Alerts: channels, rules and the delivery log (registered by their own module).
import portouts.alerts.admin  # noqa: E402, F401

# The risk models' admin lives with them.
from portouts.risk import admin as _risk_admin  # noqa: E402, F401
