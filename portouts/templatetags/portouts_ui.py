"""Small presentation helpers of the dashboard's templates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django import template

from portouts import choices

register = template.Library()

register.filter("status_label", choices.status_label)
register.filter("status_tone", choices.status_tone)


@register.filter
def utc_date(value: datetime | None) -> str:
    """A date-only value (FOC dates come as midnight UTC): shown as that UTC day."""
    if not value:
        return ""
    return value.astimezone(UTC).strftime("%Y-%m-%d")


@register.filter
def duration(value: timedelta | None) -> str:
    """A compact, readable length of time: "2 d 3 h", "5 h 10 min", "12 min"."""
    if value is None:
        return ""
    minutes = int(abs(value.total_seconds()) // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {mins} min"
    return f"{mins} min"


@register.filter
def web_url(value: str) -> str:
    """The value if it is an http(s) link (LSR links come from Telnyx), else empty."""
    text = str(value or "").strip()
    return text if text.lower().startswith(("https://", "http://")) else ""
