"""Logging filters of the dashboard (wired in `LOGGING`, portal/settings.py)."""

from __future__ import annotations

import logging


class ForbiddenWithoutTraceback(logging.Filter):
    """A 403 is someone's role or a missing CSRF token, not a bug: Django's one warning
    line ("Forbidden (Permission denied): /admin/") is kept, the traceback dropped."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "status_code", None) == 403:
            record.exc_info = None
            record.exc_text = None
        return True
