from __future__ import annotations

from django.apps import AppConfig


class PortalConfig(AppConfig):
    """The project's own plumbing: sign-in, sessions and permissions kept in the cache."""

    name = "portal"
    verbose_name = "Portal"

    def ready(self) -> None:
        from portal.permissions import connect_signals

        connect_signals()
