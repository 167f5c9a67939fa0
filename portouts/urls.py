"""URLs of the port-out app (namespace "portouts")."""

from __future__ import annotations

from django.urls import include, path, register_converter
from django.urls.converters import StringConverter

from portouts.ids import TelnyxIdConverter
from portouts.queue import FOLDED
from portouts.views import desk as desk_views
from portouts.views import events as event_views
from portouts.views import metrics as metric_views
from portouts.views import portouts, queue, webhooks
from portouts.views import reports as report_views
from portouts.views import review as review_views
from portouts.views import risk as risk_views
from portouts.views import sync as sync_views

app_name = "portouts"

# Ids of Telnyx objects in URLs: anything that cannot be one is a 404 before any query.
register_converter(TelnyxIdConverter, "telnyx_id")


class FoldedSectionConverter(StringConverter):
    """A folded queue section's name: anything else is a 404 before the view."""

    regex = "|".join(FOLDED)


register_converter(FoldedSectionConverter, "folded_section")

urlpatterns = [
    path("", queue.decision_queue, name="queue"),
    path("queue/refresh", queue.queue_refresh, name="queue_refresh"),
    path("queue/sections/<folded_section:key>", queue.queue_section, name="queue_section"),
    path("reports/", report_views.reports_page, name="reports"),
    path("reports/new", report_views.report_create, name="report_create"),
    path("reports/telnyx", report_views.telnyx_reports, name="telnyx_reports"),
    path("reports/telnyx/new", report_views.telnyx_report_create, name="telnyx_report_create"),
    path("reports/<uuid:report_id>/retry", report_views.report_retry, name="report_retry"),
    path("reports/<uuid:report_id>/download", report_views.report_download, name="report_download"),
    path("events/", event_views.events_page, name="events"),
    path(
        "events/<telnyx_id:event_id>/republish", event_views.event_republish, name="event_republish"
    ),
    path("metrics/", metric_views.metrics_page, name="metrics"),
    path("metrics/timeouts/", metric_views.metrics_timeouts, name="metrics_timeouts"),
    path("metrics/weekly", metric_views.metrics_weekly, name="metrics_weekly"),
    path("metrics/<slug:table>.csv", metric_views.metrics_export, name="metrics_export"),
    path("sync/", sync_views.sync_runs, name="sync_runs"),
    path("sync/start", sync_views.sync_start, name="sync_start"),
    path("sync/runs/<int:pk>/progress", sync_views.sync_progress, name="sync_progress"),
    path("webhooks/telnyx", webhooks.telnyx_webhook, name="webhook"),
    path("portouts/", portouts.portout_list, name="list"),
    path("portouts/<telnyx_id:portout_id>/", portouts.portout_detail, name="detail"),
    path(
        "portouts/<telnyx_id:portout_id>/authorize/",
        review_views.portout_authorize,
        name="authorize",
    ),
    path("portouts/<telnyx_id:portout_id>/reject/", review_views.portout_reject, name="reject"),
    path("portouts/<telnyx_id:portout_id>/comments/", review_views.portout_comment, name="comment"),
    path("portouts/<telnyx_id:portout_id>/documents/", review_views.portout_upload, name="upload"),
    path("portouts/<telnyx_id:portout_id>/notes/", desk_views.note_create, name="note"),
    path("portouts/<telnyx_id:portout_id>/deciding/", desk_views.deciding_mark, name="deciding"),
    path(
        "portouts/<telnyx_id:portout_id>/rejections/<int:pending_id>/approve/",
        desk_views.rejection_approve,
        name="rejection_approve",
    ),
    path(
        "portouts/<telnyx_id:portout_id>/rejections/<int:pending_id>/withdraw/",
        desk_views.rejection_withdraw,
        name="rejection_withdraw",
    ),
    path(
        "portouts/<telnyx_id:portout_id>/confirmation/",
        risk_views.confirmation_send,
        name="confirmation_send",
    ),
    path("portouts/<telnyx_id:portout_id>/outcome/", risk_views.outcome_label, name="outcome"),
    path(
        "portouts/<telnyx_id:portout_id>/outcome/watch/",
        risk_views.outcome_watch,
        name="outcome_watch",
    ),
    # The end user's answer page: no sign-in (a signed single-use link), rate-limited.
    path("confirm/<str:token>/", risk_views.confirmation_answer, name="confirmation_answer"),
    path(
        "portouts/<telnyx_id:portout_id>/documents/<telnyx_id:document_id>/download/",
        portouts.document_download,
        name="document_download",
    ),
    path("", include("portouts.alerts.urls")),
]
