"""Small presentation helpers of the dashboard's templates."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from django import template
from django.template.loader import get_template
from django.utils.safestring import SafeString, mark_safe

from portouts import choices, urgency
from portouts.queue import QueueRow
from portouts.templatetags.alerts_ui import alert_badges

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


@register.simple_tag(takes_context=True)
def queue_row(context: template.Context, row: QueueRow, oob: bool = False) -> SafeString:
    """One queue row (`queue.html#row`), rendered once per process for each distinct row.

    A row's markup depends only on its values, its badges and `oob`; rows change when a
    port-out or its time left does, so a queue of hundreds of rows, requested by every
    reviewer every few seconds, renders the few that changed (half the page's CPU before).
    """
    badges = alert_badges(context, row["id"])
    inner = get_template("portouts/queue.html#row").template  # type: ignore[attr-defined]
    return _row_html(inner, tuple(row.items()), badges, bool(oob))


@lru_cache(maxsize=4096)
def _row_html(
    inner: template.Template, row: tuple[tuple[str, Any], ...], badges: str, oob: bool
) -> SafeString:
    # Keyed by the template object too: a template edited in development loads anew.
    markup = inner.render(template.Context({"row": dict(row), "badges": badges, "oob": oob}))
    return mark_safe(markup)  # noqa: S308 - the template's own escaped output
