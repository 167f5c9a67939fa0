"""Small presentation helpers of the dashboard's templates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from django import template
from django.utils.html import format_html

from portouts.models import PortOutStatus

register = template.Library()


@register.filter
def status_label(status: str) -> str:
    """The readable label of a status; unknown statuses from Telnyx show as sent."""
    try:
        return str(PortOutStatus(status).label)
    except ValueError:
        return status or "unknown"


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
def hours(value: timedelta | None) -> str:
    return "" if value is None else f"{value.total_seconds() / 3600:.0f}"


@register.filter
def web_url(value: str) -> str:
    """The value if it is an http(s) link (LSR links come from Telnyx), else empty."""
    text = str(value or "").strip()
    return text if text.lower().startswith(("https://", "http://")) else ""


_ROW = (
    '<tr data-href="{url}" tabindex="-1">'
    '<td><span class="badge status-{status_class}">{status_label}</span></td>'
    '<td class="mono nowrap">{number}{more}</td>'
    "<td>{end_user}</td>"
    "<td>{carrier}{spid}</td>"
    '<td class="mono hide-narrow">{pon}</td>'
    '<td class="nowrap">{foc}</td>'
    '<td class="nowrap hide-narrow">{requested_foc}</td>'
    '<td class="nowrap"><time datetime="{created_iso}">{created}</time></td>'
    '<td><a href="{url}" class="mono">{key}</a></td>'
    "</tr>"
)


@register.simple_tag
def list_row(row: Any) -> str:
    """One row of the port-out list, as HTML (every value escaped by format_html).

    Built in Python rather than with template tags: the list shows up to 250 rows and the
    template engine costs about 0.3 ms per row, which alone would exceed the page's budget.
    The status badge is the markup of `_status_badge.html`.
    """
    p = row.portout
    more = (
        format_html(
            ' <span class="muted" title="{} numbers in total">+{}</span>',
            p.number_count,
            row.more_numbers,
        )
        if row.more_numbers
        else ""
    )
    spid = format_html('<br><span class="muted small">SPID {}</span>', p.spid) if p.spid else ""
    return format_html(
        _ROW,
        url=row.url,
        status_class=row.status_class,
        status_label=row.status_label,
        number=p.first_number or "—",
        more=more,
        end_user=p.end_user_name or "—",
        carrier=p.carrier_name or "—",
        spid=spid,
        pon=p.pon or "—",
        foc=row.foc or "—",
        requested_foc=row.requested_foc or "—",
        created_iso=row.created_iso,
        created=row.created,
        key=p.support_key or p.id,
    )
