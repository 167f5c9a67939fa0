"""How risk pages and e-mails show personal data: as little of it as does the job."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone


def mask_email(email: str) -> str:
    """ "jane.doe@example.com" -> "j***@example.com": enough to tell addresses apart."""
    local, _, domain = (email or "").partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"


def last_digits(number: str, count: int = 4) -> str:
    """ "+13125550123" -> "…0123"."""
    digits = "".join(c for c in number or "" if c.isdigit())
    return f"…{digits[-count:]}" if digits else "…"


def local_time(value: datetime) -> str:
    """A time as the pages write it (the dashboard's time zone)."""
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M %Z")
