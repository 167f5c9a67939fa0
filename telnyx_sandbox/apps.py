from __future__ import annotations

from django.apps import AppConfig


class TelnyxSandboxConfig(AppConfig):
    """A local server speaking the Telnyx port-out API, for demos, tests and benchmarks."""

    name = "telnyx_sandbox"
    verbose_name = "Telnyx sandbox"
