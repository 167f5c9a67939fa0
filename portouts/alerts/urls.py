"""URLs of alerts, included in the port-out app's namespace."""

from __future__ import annotations

from django.urls import path

from portouts.alerts import views

urlpatterns = [
    path("alerts/", views.my_alerts, name="my_alerts"),
    path("alerts/preferences/", views.preferences, name="alert_preferences"),
    path("alerts/log/", views.delivery_log, name="delivery_log"),
    path("alerts/channels/", views.channels_page, name="alert_channels"),
    path("portouts/<telnyx_id:portout_id>/take/", views.claim_take, name="claim_take"),
    path("portouts/<telnyx_id:portout_id>/release/", views.claim_release, name="claim_release"),
]
