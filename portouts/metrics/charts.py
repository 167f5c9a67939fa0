"""The metrics page's charts: SVG rendered on the server by pygal.

Each chart goes into the page as an `<img>` with a data: URL, so it needs no request, no
script (pygal's tooltips script is left out) and nothing from outside the server, and the
page's Content-Security-Policy (`img-src 'self' data:`) covers it. Every chart has a title,
an alt text that says what it shows, and its numbers in a table beside it (the template).
"""

from __future__ import annotations

import base64
import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass

import pygal
from django.core.cache import cache
from pygal.style import Style

from portouts.choices import OutcomeLabel
from portouts.metrics.selectors import (
    FLAG_OUTCOMES,
    NOT_LABELLED,
    CountRow,
    DayRow,
    FlagRow,
    Metrics,
)

#: what every chart shares with the stylesheet
_LOOK: dict[str, object] = {
    "background": "#ffffff",
    "plot_background": "#ffffff",
    "foreground": "#1d2530",
    "foreground_strong": "#1d2530",
    "foreground_subtle": "#5b6675",
    "font_family": 'system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif',
    "title_font_size": 16,
    "label_font_size": 12,
    "major_label_font_size": 12,
    "legend_font_size": 13,
}
#: the stylesheet's palette (static/css/app.css): authorized, rejected, canceled, timeout,
#: bounced back
_STYLE = Style(colors=("#1b7a3d", "#b42318", "#5b6675", "#8a5a00", "#1f5fbf"), **_LOOK)
#: outcome labels in the same palette (fraud red, legitimate green), then "not labelled"
_OUTCOME_COLORS: dict[str, str] = {
    OutcomeLabel.FRAUD: "#b42318",
    OutcomeLabel.LEGITIMATE: "#1b7a3d",
    OutcomeLabel.CUSTOMER_ERROR: "#8a5a00",
    OutcomeLabel.UNKNOWN: "#5b6675",
}
_OUTCOME_STYLE = Style(
    colors=(*(_OUTCOME_COLORS[label] for label in FLAG_OUTCOMES), "#9aa5b3"), **_LOOK
)
logger = logging.getLogger(__name__)
_SIZE = {"width": 760, "height": 320}


@dataclass(frozen=True)
class Chart:
    """A rendered chart: its title, text alternative and `data:` URL."""

    title: str
    alt: str
    src: str


#: pygal takes tens of milliseconds a chart; the same numbers always draw the same SVG, so
#: a drawing is kept in Django's cache under a digest of what it shows
CACHE_SECONDS = 24 * 3600
_KINDS = {
    "bar": pygal.Bar,
    "stacked": pygal.StackedBar,
    "horizontal": pygal.HorizontalBar,
    "horizontal_stacked": pygal.HorizontalStackedBar,
}


def _render(
    kind: str,
    title: str,
    alt: str,
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[int]]],
    style: Style = _STYLE,
    **extra: object,
) -> Chart:
    spec = repr(
        (
            kind,
            title,
            list(labels),
            [(n, list(v)) for n, v in series],
            style.colors,
            sorted(extra.items()),
        )
    )
    key = "metrics-chart:" + hashlib.sha256(spec.encode()).hexdigest()
    src = _cache_get(key)
    if src is None:
        chart = _KINDS[kind](style=style, **_config(title, **extra))
        chart.x_labels = list(labels)
        for name, values in series:
            chart.add(name, list(values))
        src = "data:image/svg+xml;base64," + base64.b64encode(chart.render()).decode()
        _cache_set(key, src)
    return Chart(title, alt, src)


def _cache_get(key: str) -> str | None:
    try:
        return cache.get(key)
    except Exception:  # noqa: BLE001 - a cache outage only costs a redraw
        return None


def _cache_set(key: str, value: str) -> None:
    try:
        cache.set(key, value, CACHE_SECONDS)
    except Exception:  # noqa: BLE001
        logger.warning("Could not keep a metrics chart in the cache; it is drawn again")


def _config(title: str, **extra: object) -> dict[str, object]:
    return {
        "title": title,
        "js": [],
        "legend_at_bottom": True,
        "print_values": False,
        "show_y_guides": True,
        "truncate_label": -1,
        **_SIZE,
        **extra,
    }


def distribution_chart(rows: Sequence[CountRow]) -> Chart:
    alt = "Bar chart of port-outs by time to decision: " + _spoken(rows) + "."
    return _render(
        "bar",
        "Time to decision",
        alt,
        [r.label for r in rows],
        [("Port-outs", [r.count for r in rows])],
        show_legend=False,
        y_labels=_counts_axis(rows),
    )


#: the series of the decisions chart: (legend, DayRow attribute)
_DAY_SERIES = (
    ("Authorized", "authorized"),
    ("Rejected", "rejected"),
    ("Canceled by the carrier", "canceled"),
    ("Authorized by timeout", "timeout"),
    ("Bounced back", "bounced"),
)


def days_chart(days: Sequence[DayRow], unit: str) -> Chart:
    series = [(label, [getattr(d, key) for d in days]) for label, key in _DAY_SERIES]
    totals = ", ".join(f"{label.lower()} {sum(values)}" for label, values in series)
    alt = f"Stacked bar chart of decisions in each of {len(days)} {unit}s; in all: {totals}."
    most = max((sum(column) for column in zip(*(v for _, v in series), strict=True)), default=0)
    return _render(
        "stacked",
        f"Decisions per {unit}",
        alt,
        [d.day.strftime("%b %Y" if unit == "month" else "%d %b") for d in days],
        series,
        y_labels=_axis(most),
        x_label_rotation=-45,
        show_minor_x_labels=False,
        x_labels_major_every=max(1, len(days) // 10),
    )


def count_chart(title: str, rows: Sequence[CountRow], what: str) -> Chart | None:
    """A horizontal bar chart of counts (rejection codes, gaining carriers); None if empty."""
    if not rows:
        return None
    return _render(
        "horizontal",
        title,
        f"Bar chart of {what.lower()}: {_spoken(rows)}.",
        [r.label for r in rows],
        [(what, [r.count for r in rows])],
        show_legend=False,
        height=max(160, 60 + 28 * len(rows)),
        y_labels=_counts_axis(rows),
    )


def flags_chart(rows: Sequence[FlagRow]) -> Chart | None:
    """Each flag's port-outs stacked by outcome label: a mostly red bar is a flag that was
    usually right. None if no port-out of the period carried a flag."""
    if not rows:
        return None
    series = [
        (OutcomeLabel(label).label, [r.outcomes[label] for r in rows]) for label in FLAG_OUTCOMES
    ]
    series.append((NOT_LABELLED, [r.unlabelled for r in rows]))
    spoken = "; ".join(
        f"{r.label} {r.flagged} ("
        + ", ".join(f"{name.lower()} {values[n]}" for name, values in series)
        + ")"
        for n, r in enumerate(rows)
    )
    return _render(
        "horizontal_stacked",
        "Outcomes by risk flag",
        f"Stacked bar chart of port-outs by risk flag and outcome: {spoken}.",
        [r.label for r in rows],
        series,
        style=_OUTCOME_STYLE,
        height=max(200, 90 + 28 * len(rows)),
        y_labels=_axis(max((r.flagged for r in rows), default=0)),
    )


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
        "days": days_chart(metrics.days, metrics.unit),
        "codes": count_chart("Rejections by code", metrics.codes, "Rejections"),
        "carriers": count_chart("Port-outs by gaining carrier", metrics.carriers, "Port-outs"),
        "flags": flags_chart(metrics.flags),
    }
