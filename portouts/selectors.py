"""Read queries of the dashboard: the queue, the list and one port-out (its timeline and
the recent activity are worded in `portouts.timeline`).

Every page runs a fixed number of queries whatever the amount of data: list rows read
only the triage columns stored on PortOut (first number and count included), and the
timeline reads each source once.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TypedDict
from urllib.parse import quote

from django.conf import settings
from django.core.cache import cache
from django.core.paginator import Paginator
from django.db.models import Case, Count, F, Max, Q, QuerySet, Value, When
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property

from portouts.choices import LIST_FIELDS, status_label, status_tone
from portouts.models import (
    Comment,
    PortOut,
    PortOutEvent,
    PortOutStatus,
    ReviewAction,
    SupportingDocument,
)
from portouts.risk.selectors import by_risk_within, risk_version

logger = logging.getLogger(__name__)


def review_window() -> timedelta:
    return timedelta(hours=settings.REVIEW_WINDOW_HOURS)


def due_soon_window() -> timedelta:
    return timedelta(hours=settings.REVIEW_DUE_SOON_HOURS)


@dataclass(frozen=True)
class Deadline:
    """When Telnyx will authorize a pending port-out by default, and how close that is."""

    due_at: datetime | None
    left: timedelta | None

    @property
    def overdue(self) -> bool:
        return self.left is not None and self.left <= timedelta(0)

    @property
    def due_soon(self) -> bool:
        return self.left is not None and timedelta(0) < self.left <= due_soon_window()

    @property
    def urgency(self) -> str:
        return "overdue" if self.overdue else "due-soon" if self.due_soon else ""


def deadline_for(portout: PortOut, *, now: datetime | None = None) -> Deadline:
    if portout.created_at is None:
        return Deadline(None, None)
    due_at = portout.created_at + review_window()
    return Deadline(due_at, due_at - (now or timezone.now()))


# -- queue ---------------------------------------------------------------------------


def portout_status_counts() -> list[tuple[str, str, int]]:
    """(status, label, count) for every known status, then any unknown status Telnyx sent."""
    counts = dict(
        PortOut.objects.present().values_list("status").annotate(n=Count("id")).order_by()
    )
    rows = [(s.value, s.label, counts.pop(s.value, 0)) for s in PortOutStatus]
    rows += [(status, status, n) for status, n in sorted(counts.items())]
    return rows


#: Rows the queue shows; the page says how many more are pending and links to the list.
QUEUE_LIMIT = 200


def portout_queue(*, limit: int = QUEUE_LIMIT) -> list[tuple[PortOut, Deadline]]:
    """Pending port-outs, most urgent first.

    Every pending port-out has the same window from created_at, so the least time left is
    the oldest created_at; ties (and rows without created_at) fall back to the FOC date.
    Within each section (overdue, due soon, later) the riskiest come first (`risk_score`).
    Port-outs last seen pending that Telnyx no longer lists stay here (`vanished_at` set,
    the page marks them): Telnyx may still authorize them by default.
    """
    now = timezone.now()
    ended = now - review_window()
    section = Case(
        When(created_at__lte=ended, then=Value(0)),
        When(created_at__lte=ended + due_soon_window(), then=Value(1)),
        default=Value(2),
    )
    rows = by_risk_within(
        _queue_pending().only(*LIST_FIELDS, "vanished_at"),
        section,
        F("created_at").asc(nulls_last=True),
        F("foc_date").asc(nulls_last=True),
        "id",
    )[:limit]
    return [(p, deadline_for(p, now=now)) for p in rows]


def _queue_pending() -> QuerySet[PortOut]:
    """Pending port-outs for the queue, vanished ones included (see `portout_queue`)."""
    return PortOut.objects.filter(status=PortOutStatus.PENDING)


@dataclass(frozen=True)
class QueueCounts:
    """Every pending port-out counted, not only the rows the queue shows."""

    pending: int
    overdue: int
    due_soon: int


def pending_counts(*, now: datetime | None = None) -> QueueCounts:
    """Pending, overdue and due-soon port-outs, in one query (same rules as `Deadline`)."""
    now = now or timezone.now()
    ended = now - review_window()  # created at or before this: the window has ended
    soon = ended + due_soon_window()
    counts = _queue_pending().aggregate(
        pending=Count("id"),
        overdue=Count("id", filter=Q(created_at__lte=ended)),
        due_soon=Count("id", filter=Q(created_at__gt=ended, created_at__lte=soon)),
    )
    return QueueCounts(**counts)


# -- list ------------------------------------------------------------------------------


def portout_list_base() -> QuerySet[PortOut]:
    """The rows the list starts from, before filters: cached port-outs Telnyx still lists."""
    return PortOut.objects.present().only(*LIST_FIELDS)


class ListRow(TypedDict):
    """One row of the list, every cell already a string (a plain dict: the template
    engine looks dict keys up first, which keeps 250 rows cheap to render)."""

    id: str
    url: str
    status_label: str
    status_tone: str
    number: str
    more_numbers: int
    number_count: int
    end_user: str
    carrier: str
    spid: str
    pon: str
    foc: str
    requested_foc: str
    created: str
    created_iso: str
    key: str


def _utc_day(value: datetime | None) -> str:
    return value.astimezone(UTC).date().isoformat() if value else ""


def list_rows(portouts: Iterable[PortOut]) -> list[ListRow]:
    """The page's rows with their cells formatted ("—" for an empty cell)."""
    # reverse() once, then the ids are quoted into the same pattern.
    marker = "portout-id-marker"
    pattern = reverse("portouts:detail", args=[marker])
    zone = timezone.get_current_timezone()
    rows: list[ListRow] = []
    for p in portouts:
        created = p.created_at.astimezone(zone) if p.created_at else None
        rows.append(
            {
                "url": pattern.replace(marker, quote(p.id, safe="")),
                "status_label": status_label(p.status),
                "status_tone": status_tone(p.status),
                "number": p.first_number or "—",
                "more_numbers": max(0, p.number_count - 1),
                "number_count": p.number_count,
                "end_user": p.end_user_name or "—",
                "carrier": p.carrier_name or "—",
                "spid": p.spid,
                "pon": p.pon or "—",
                "foc": _utc_day(p.foc_date) or "—",
                "requested_foc": _utc_day(p.requested_foc_date) or "—",
                "created": created.strftime("%Y-%m-%d %H:%M %Z") if created else "",
                "created_iso": created.isoformat() if created else "",
                "key": p.support_key or p.id,
                "id": p.id,
            }
        )
    return rows


class CountCachedPaginator(Paginator):  # type: ignore[type-arg]
    """A paginator whose count(*) is cached per filter and cache version.

    Counting 100,000 cached port-outs takes SQLite 10-20 ms on every page; the count only
    changes when the cache or the audit trail does, which `cache_version` tracks (the same
    token that lets the list's polling answer 204). The key leaves out page and ordering,
    so paging through one filter counts once.
    """

    def __init__(self, object_list: QuerySet[PortOut], per_page: int, *, version: str) -> None:
        super().__init__(object_list, per_page)
        self.version = version
        self.queryset = object_list

    @cached_property
    def count(self) -> int:
        sql, params = self.queryset.order_by().query.sql_with_params()
        key = "portouts:list-count:" + _token(self.version, sql, repr(params))
        try:
            found = cache.get(key)
        except Exception:  # the cache is an optimisation: count without it
            logger.warning("List count cache unavailable", exc_info=True)
            return self.queryset.count()
        if isinstance(found, int):
            return found
        total = self.queryset.count()
        try:
            cache.set(key, total, COUNT_CACHE_SECONDS)
        except Exception:
            logger.warning("List count cache unavailable", exc_info=True)
        return total


#: How long a list count stays cached; a new cache version makes a new key before that.
COUNT_CACHE_SECONDS = 600


def cache_version() -> str:
    """A cheap token that changes whenever the cache or the audit trail changes."""
    # Both maxima come from an index. Rows are never deleted from the cache: a port-out
    # Telnyx stops listing is flagged (vanished_at), and a stored row gets a new synced_at.
    # One maximum per query: SQLite answers a lone MAX from the index, two by a full scan.
    synced = PortOut.objects.aggregate(m=Max("synced_at"))["m"]
    vanished = PortOut.objects.aggregate(m=Max("vanished_at"))["m"]
    last_action = ReviewAction.objects.aggregate(id=Max("id"), done=Max("finished_at"))
    return _token(synced, vanished, last_action["id"], last_action["done"])


def _token(*parts: object) -> str:
    return hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()[:20]


# -- one port-out ----------------------------------------------------------------------


def portout_version(*, portout_id: str) -> str:
    """Token of one port-out page: the row, its events, comments, documents and actions."""
    row = PortOut.objects.filter(id=portout_id).values_list("synced_at", "details_synced_at")
    events = PortOutEvent.objects.filter(portout_id=portout_id).aggregate(
        n=Count("id"), last=Max("received_at")
    )
    comments = Comment.objects.filter(portout_id=portout_id).aggregate(
        n=Count("id"), last=Max("created_at")
    )
    docs = SupportingDocument.objects.filter(portout_id=portout_id).aggregate(n=Count("id"))
    actions = ReviewAction.objects.filter(portout_id=portout_id).aggregate(
        id=Max("id"), done=Max("finished_at")
    )
    return _token(
        list(row),
        events["n"],
        events["last"],
        comments["n"],
        comments["last"],
        docs["n"],
        actions["id"],
        actions["done"],
        risk_version(portout_id=portout_id),
    )


def portout_documents(*, portout_id: str) -> list[SupportingDocument]:
    return list(SupportingDocument.objects.filter(portout_id=portout_id).defer("raw"))
