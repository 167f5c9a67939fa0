from __future__ import annotations

from django.apps import AppConfig


class PortalConfig(AppConfig):
    """The project itself: connects the signals that keep cached permissions true."""

    name = "portal"
    verbose_name = "Portal"

    def ready(self) -> None:
        from portal.permissions import connect_signals

        connect_signals()
