"""The decision queue's reads: pending port-outs in three sections (due soon, in window, past
the window but still pending in Telnyx), each with its count and a token, so a refresh sends
only the section or the rows that changed.

Fixed queries whatever the amount of data: one aggregate for every section's count and token,
one query per section for its rows (all from the index on status and creation date). Rows
are read as values of the columns they show, never as model instances: at 500 pending
port-outs building instances cost more than the queries.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypedDict
from urllib.parse import quote, urlencode

from django.db.models import Aggregate, Count, F, Max, Min, QuerySet
from django.urls import reverse
from django.utils import timezone

from portouts.choices import PortOutStatus, TimeLeft
from portouts.models import PortOut
from portouts.risk.selectors import with_risk
from portouts.selectors import cell
from portouts.urgency import deadline_at, left_text, time_left_q
from portouts.versions import token

#: Rows a section shows; its count links to the list for the rest. A hundred is more than a
#: morning's decisions, and every row costs the page (about 0.05 ms of CPU each to read and
#: render). Past the window is folded and shows fewer.
QUEUE_LIMIT = 100
PAST_WINDOW_LIMIT = 50

#: The sections in the queue's order (also "next most urgent" order).
SECTIONS: tuple[TimeLeft, ...] = (TimeLeft.DUE_SOON, TimeLeft.IN_WINDOW, TimeLeft.PAST_WINDOW)

#: Sections folded on arrival: their rows are read when the reviewer opens them (with
#: JavaScript off, the section links to the same rows in the list), not on every page load.
#: A refresh that sees the section's membership move still sends its rows, as for any
#: section: it cannot tell whether this browser has opened it.
FOLDED: tuple[TimeLeft, ...] = (TimeLeft.PAST_WINDOW,)

#: What `queue_rows` reads of each port-out (`risk_score` from `with_risk`).
ROW_COLUMNS = (
    "id",
    "support_key",
    "end_user_name",
    "carrier_name",
    "first_number",
    "number_count",
    "foc_date",
    "created_at",
    "vanished_at",
    "risk_score",
)


def _pending() -> QuerySet[PortOut]:
    """Pending port-outs, vanished ones included: Telnyx may still authorize them."""
    return PortOut.objects.filter(status=PortOutStatus.PENDING)


class QueueRow(TypedDict):
    """One row of the queue, every text cell escaped for HTML but `id` and `bucket` (rendered
    by `queue.html#row`)."""

    id: str
    dom_id: str
    url: str
    key: str
    end_user: str
    carrier: str
    number: str
    more_numbers: int
    foc: str
    left: str
    due_iso: str
    due_title: str
    bucket: str
    risk_score: int
    vanished: str


@dataclass(frozen=True)
class SectionState:
    """What a refresh compares: how many rows a section holds and a token of its membership
    (count and creation range) and content (latest sync)."""

    key: TimeLeft
    count: int
    token: str
    membership: str
    synced: datetime | None

    @property
    def list_url(self) -> str:
        return f"{reverse('portouts:list')}?{urlencode({'time_left': self.key.value})}"


@dataclass(frozen=True)
class Section:
    """A section with its rows; `loaded` is False for a folded section whose rows the
    browser asks for when it is opened."""

    state: SectionState
    rows: list[QueueRow]
    loaded: bool = True

    @property
    def key(self) -> str:
        return self.state.key.value

    @property
    def label(self) -> str:
        return str(self.state.key.label)

    @property
    def more(self) -> int:
        return self.state.count - len(self.rows) if self.loaded else 0


def queue_state(*, now: datetime) -> dict[TimeLeft, SectionState]:
    """Every section's count and tokens, in one aggregate query."""
    aggregates: dict[str, Aggregate] = {}
    for key in SECTIONS:
        match = time_left_q(key, now=now)
        aggregates[f"{key}_n"] = Count("id", filter=match)
        aggregates[f"{key}_first"] = Min("created_at", filter=match)
        aggregates[f"{key}_last"] = Max("created_at", filter=match)
        aggregates[f"{key}_synced"] = Max("synced_at", filter=match)
    found = _pending().aggregate(**aggregates)
    states = {}
    for key in SECTIONS:
        n, first, last = found[f"{key}_n"], found[f"{key}_first"], found[f"{key}_last"]
        membership = token(n, first, last)
        synced = found[f"{key}_synced"]
        states[key] = SectionState(key, n, token(membership, synced), membership, synced)
    return states


def _values(queryset: QuerySet[PortOut]) -> QuerySet[PortOut, dict[str, Any]]:
    """The columns a row shows, with its `risk_score` (by one join)."""
    return with_risk(queryset).values(*ROW_COLUMNS)


def _ordered(queryset: QuerySet[PortOut]) -> QuerySet[PortOut, dict[str, Any]]:
    """Within a section, the riskiest first, then least time left; ties (and rows without
    a creation date) by FOC date."""
    return _values(queryset).order_by(  # type: ignore[misc]
        "-risk_score",
        F("created_at").asc(nulls_last=True),
        F("foc_date").asc(nulls_last=True),
        "id",
    )


def section_rows(key: TimeLeft, *, now: datetime) -> list[QueueRow]:
    limit = PAST_WINDOW_LIMIT if key == TimeLeft.PAST_WINDOW else QUEUE_LIMIT
    return queue_rows(_ordered(_pending().filter(time_left_q(key, now=now)))[:limit], now=now)


def queue_sections(
    states: dict[TimeLeft, SectionState],
    keys: tuple[TimeLeft, ...] = SECTIONS,
    *,
    now: datetime,
    folded: tuple[TimeLeft, ...] = (),
) -> list[Section]:
    """Sections with their rows, in the queue's order; those in `folded` without them."""
    return [
        Section(states[key], [], loaded=False)
        if key in folded
        else Section(states[key], section_rows(key, now=now))
        for key in keys
    ]


def rows_synced_since(since: datetime, *, now: datetime) -> dict[TimeLeft, list[QueueRow]]:
    """Pending rows the sync stored after `since`, by section (a refresh sends only these)."""
    rows = _values(_pending().filter(synced_at__gt=since)).order_by("created_at", "id")
    found: dict[TimeLeft, list[QueueRow]] = {key: [] for key in SECTIONS}
    for row in queue_rows(rows[:QUEUE_LIMIT], now=now):
        found[TimeLeft(row["bucket"])].append(row)
    return found


def latest_sync(states: dict[TimeLeft, SectionState]) -> datetime | None:
    """The newest `synced_at` among pending rows: what the next refresh asks changes after."""
    return max((s.synced for s in states.values() if s.synced), default=None)


def next_pending(*, exclude: str = "", now: datetime | None = None) -> QueueRow | None:
    """The most urgent pending port-out Telnyx still lists, in the queue's order."""
    now = now or timezone.now()
    base = PortOut.objects.pending().exclude(id=exclude)
    for key in SECTIONS:
        found = queue_rows(_ordered(base.filter(time_left_q(key, now=now)))[:1], now=now)
        if found:
            return found[0]
    return None


def queue_rows(portouts: Iterable[dict[str, Any]], *, now: datetime) -> list[QueueRow]:
    """Rows of `ROW_COLUMNS` values, every text cell escaped ("—" for an empty cell)."""
    marker = "portout-id-marker"
    pattern = reverse("portouts:detail", args=[marker])
    zone = timezone.get_current_timezone()
    rows: list[QueueRow] = []
    for p in portouts:
        pk, foc, vanished = p["id"], p["foc_date"], p["vanished_at"]
        deadline = deadline_at(p["created_at"], now=now)
        due = deadline.due_at.astimezone(zone) if deadline.due_at else None
        rows.append(
            {
                "id": pk,
                "dom_id": cell(f"q-{pk}"),
                "url": cell(pattern.replace(marker, quote(pk, safe=""))),
                "key": cell(p["support_key"] or pk),
                "end_user": cell(p["end_user_name"] or "—"),
                "carrier": cell(p["carrier_name"] or "—"),
                "number": cell(p["first_number"] or "—"),
                "more_numbers": max(0, p["number_count"] - 1),
                "foc": cell(foc.astimezone(UTC).date().isoformat() if foc else "—"),
                "left": cell(left_text(deadline)),
                "due_iso": cell(due.isoformat() if due else ""),
                "due_title": cell(due.strftime("%Y-%m-%d %H:%M %Z") if due else ""),
                "bucket": deadline.time_left.value,
                "risk_score": p["risk_score"],
                "vanished": cell(
                    vanished.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z") if vanished else ""
                ),
            }
        )
    return rows
