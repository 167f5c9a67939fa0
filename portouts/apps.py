from __future__ import annotations

from django.apps import AppConfig


class PortoutsConfig(AppConfig):
    """The port-out review app: the local cache of Telnyx port-outs and the pages over it."""

    name = "portouts"
    verbose_name = "Port-outs"
