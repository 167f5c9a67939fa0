"""The metrics page's charts: SVG rendered on the server by pygal.

Each chart goes into the page as an `<img>` with a data: URL, so it needs no request, no
script (pygal's tooltips script is left out) and nothing from outside the server, and the
page's Content-Security-Policy (`img-src 'self' data:`) covers it. Every chart has a title,
an alt text that says what it shows, and its numbers in a table beside it (the template).
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass

import pygal
from pygal.style import Style

from portouts.metrics.selectors import CountRow, DayRow, Metrics

#: the stylesheet's palette (static/css/app.css): authorized, rejected, canceled, timeout,
#: bounced back
_STYLE = Style(
    background="#ffffff",
    plot_background="#ffffff",
    foreground="#1d2530",
    foreground_strong="#1d2530",
    foreground_subtle="#5b6675",
    font_family='system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif',
    colors=("#1b7a3d", "#b42318", "#5b6675", "#8a5a00", "#1f5fbf"),
    title_font_size=16,
    label_font_size=12,
    major_label_font_size=12,
    legend_font_size=13,
)
_SIZE = {"width": 760, "height": 320}


@dataclass(frozen=True)
class Chart:
    """A rendered chart: its title, text alternative and `data:` URL."""

    title: str
    alt: str
    src: str


def _render(chart: pygal.graph.graph.Graph, title: str, alt: str) -> Chart:
    svg = chart.render()
    return Chart(title, alt, "data:image/svg+xml;base64," + base64.b64encode(svg).decode())


def _config(title: str, **extra: object) -> dict[str, object]:
    return {
        "title": title,
        "style": _STYLE,
        "js": [],
        "legend_at_bottom": True,
        "print_values": False,
        "show_y_guides": True,
        "truncate_label": -1,
        **_SIZE,
        **extra,
    }


def distribution_chart(rows: Sequence[CountRow]) -> Chart:
    title = "Time to decision"
    chart = pygal.Bar(**_config(title, show_legend=False, y_labels=_counts_axis(rows)))
    chart.x_labels = [r.label for r in rows]
    chart.add("Port-outs", [r.count for r in rows])
    alt = "Bar chart of port-outs by time to decision: " + _spoken(rows) + "."
    return _render(chart, title, alt)


def days_chart(days: Sequence[DayRow]) -> Chart:
    title = "Decisions per day"
    most = max(
        (d.authorized + d.rejected + d.canceled + d.timeout + d.bounced for d in days), default=0
    )
    chart = pygal.StackedBar(
        **_config(
            title,
            y_labels=_axis(most),
            x_label_rotation=-45,
            show_minor_x_labels=False,
            x_labels_major_every=max(1, len(days) // 10),
        )
    )
    chart.x_labels = [d.day.strftime("%d %b") for d in days]
    series = (
        ("Authorized", "authorized"),
        ("Rejected", "rejected"),
        ("Canceled by the carrier", "canceled"),
        ("Authorized by timeout", "timeout"),
        ("Bounced back", "bounced"),
    )
    totals = []
    for label, key in series:
        values = [getattr(d, key) for d in days]
        chart.add(label, values)
        totals.append(f"{label.lower()} {sum(values)}")
    alt = f"Stacked bar chart of decisions on each of {len(days)} days; in all: " + (
        ", ".join(totals) + "."
    )
    return _render(chart, title, alt)


def count_chart(title: str, rows: Sequence[CountRow], what: str) -> Chart | None:
    """A horizontal bar chart of counts (rejection codes, gaining carriers); None if empty."""
    if not rows:
        return None
    height = max(160, 60 + 28 * len(rows))
    chart = pygal.HorizontalBar(
        **_config(title, show_legend=False, height=height, y_labels=_counts_axis(rows))
    )
    chart.x_labels = [r.label for r in rows]
    chart.add(what, [r.count for r in rows])
    return _render(chart, title, f"Bar chart of {what.lower()}: {_spoken(rows)}.")


def _counts_axis(rows: Sequence[CountRow]) -> list[int]:
    return _axis(max((r.count for r in rows), default=0))


def _axis(most: int) -> list[int]:
    """Whole numbers for a count axis (pygal would label 0.1, 0.2, ... for small counts)."""
    step = max(1, -(-most // 8))
    return list(range(0, most + step, step))


def _spoken(rows: Sequence[CountRow]) -> str:
    return ", ".join(f"{r.label} {r.count}" for r in rows) or "none"


def metrics_charts(metrics: Metrics) -> dict[str, Chart | None]:
    return {
        "distribution": distribution_chart(metrics.distribution),
        "days": days_chart(metrics.days),
        "codes": count_chart("Rejections by code", metrics.codes, "Rejections"),
        "carriers": count_chart("Port-outs by gaining carrier", metrics.carriers, "Port-outs"),
    }
