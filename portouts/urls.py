"""URLs of the port-out app (namespace "portouts")."""

from __future__ import annotations

from django.urls import path

from portouts.views import queue

app_name = "portouts"

urlpatterns = [
    path("", queue.decision_queue, name="queue"),
]
