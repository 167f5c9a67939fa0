"""Small presentation helpers of the dashboard's templates."""

from __future__ import annotations

from datetime import UTC, datetime

from django import template

from portouts import choices, urgency

register = template.Library()

register.filter("status_label", choices.status_label)
register.filter("status_tone", choices.status_tone)
register.filter("duration", urgency.duration)


@register.filter
def utc_date(value: datetime | None) -> str:
    """A date-only value (FOC dates come as midnight UTC): shown as that UTC day."""
    if not value:
        return ""
    return value.astimezone(UTC).strftime("%Y-%m-%d")


@register.filter
def web_url(value: str) -> str:
    """The value if it is an http(s) link (LSR links come from Telnyx), else empty."""
    text = str(value or "").strip()
    return text if text.lower().startswith(("https://", "http://")) else ""
