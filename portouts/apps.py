from __future__ import annotations

from django.apps import AppConfig
from django.db.backends.signals import connection_created


class PortoutsConfig(AppConfig):
    """The port-out review app: the local cache of Telnyx port-outs and the pages over it."""

    name = "portouts"
    verbose_name = "Port-outs"

    def ready(self) -> None:
        from portouts.metrics.aggregates import register_sqlite_functions

        # The metrics aggregate in SQL on SQLite too (PostgreSQL has percentile_cont).
        connection_created.connect(register_sqlite_functions, dispatch_uid="portouts-percentile")
