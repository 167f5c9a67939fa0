"""The metrics page's tables, cell by cell: the page renders them and the CSV exports write
them, so a download always equals what the page shows."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from portouts.choices import OutcomeLabel
from portouts.metrics.selectors import FLAG_OUTCOMES, NOT_LABELLED, Figure, FlagRow, Metrics
from portouts.reports import csv_line, neutralize_formula

#: tables a period's CSV export can name, in the page's order
TABLE_NAMES = ("summary", "days", "distribution", "reviewers", "codes", "carriers", "flags")


_UNIT_HEADERS = {"day": "Day", "week": "Week from", "month": "Month"}


@dataclass(frozen=True)
class Table:
    name: str
    title: str
    header: tuple[str, ...]
    rows: list[tuple[str, ...]]
    #: what the table counts, when its title does not say it all (the page only)
    note: str = ""


def duration(seconds: float | None) -> str:
    """Seconds as a person reads them: "45 min", "3 h 05 min", "1 d 2 h"."""
    if seconds is None:
        return "–"
    minutes = int(round(seconds / 60))
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes:02d} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h"


def _figure_cells(figure: Figure, *, is_duration: bool = False) -> tuple[str, ...]:
    show = duration if is_duration else _count
    return figure.label, show(figure.value), show(figure.before)


def _count(value: float | None) -> str:
    return "–" if value is None else str(int(value))


def share(part: int, whole: int) -> str:
    """A share as a manager reads it: "67 % (2 of 3)"; "–" of nothing."""
    return f"{round(100 * part / whole)} % ({part} of {whole})" if whole else "–"


def _flag_cells(row: FlagRow) -> tuple[str, ...]:
    counts = (row.flagged, *(row.outcomes[label] for label in FLAG_OUTCOMES), row.unlabelled)
    return (row.label, *(str(n) for n in counts), share(row.fraud, row.labelled))


def metrics_tables(metrics: Metrics) -> dict[str, Table]:
    """Every table of the page for these metrics, by name (TABLE_NAMES)."""
    m = metrics
    return {
        "summary": Table(
            "summary",
            "Summary",
            ("Figure", str(m.period), f"Previous ({m.previous})"),
            [
                _figure_cells(m.timeouts),
                _figure_cells(m.decided),
                _figure_cells(m.median_seconds, is_duration=True),
                _figure_cells(m.p90_seconds, is_duration=True),
                _figure_cells(m.rejections),
                _figure_cells(m.bounced),
                _figure_cells(m.foc_changes),
                _figure_cells(m.alert_to_claim, is_duration=True),
            ],
        ),
        "days": _days_table(m),
        "distribution": Table(
            "distribution",
            "Time to decision",
            ("Time to decision", "Port-outs"),
            [(r.label, str(r.count)) for r in m.distribution],
        ),
        "reviewers": Table(
            "reviewers",
            "By reviewer",
            ("Reviewer", "Decisions", "Median time", "Rejections"),
            [
                (r.reviewer, str(r.decisions), duration(r.median_seconds), str(r.rejections))
                for r in m.reviewers
            ],
        ),
        "codes": Table(
            "codes",
            "Rejections by code",
            ("Code", "Rejections"),
            [(r.label, str(r.count)) for r in m.codes],
        ),
        "carriers": Table(
            "carriers",
            "Port-outs by gaining carrier",
            ("Gaining carrier", "Port-outs"),
            [(r.label, str(r.count)) for r in m.carriers],
        ),
        "flags": _flags_table(m),
    }


def _days_table(m: Metrics) -> Table:
    return Table(
        "days",
        f"Decisions per {m.unit}",
        (
            _UNIT_HEADERS[m.unit],
            "Authorized",
            "Rejected",
            "Canceled",
            "By timeout",
            "Bounced back",
        ),
        [
            (
                d.day.strftime("%Y-%m") if m.unit == "month" else d.day.isoformat(),
                *(str(n) for n in (d.authorized, d.rejected, d.canceled, d.timeout, d.bounced)),
            )
            for d in m.days
        ],
    )


def _flags_table(m: Metrics) -> Table:
    return Table(
        "flags",
        "Outcomes by risk flag",
        (
            "Risk flag",
            "Port-outs flagged",
            *(OutcomeLabel(label).label for label in FLAG_OUTCOMES),
            NOT_LABELLED,
            "Turned out fraud (of those labelled)",
        ),
        [_flag_cells(r) for r in m.flags],
        note=(
            "The port-outs that became pending in the period, by the risk flags they "
            "carry and how the team labelled them since. The last column says how often "
            "a flag was right: of its labelled port-outs, how many were fraud attempts."
        ),
    )


def table_csv(table: Table) -> Iterator[bytes]:
    """The table as CSV lines, as the port-out export writes them (formula-looking cells
    as text)."""
    for row in (table.header, *table.rows):
        yield csv_line(neutralize_formula(cell) for cell in row)
