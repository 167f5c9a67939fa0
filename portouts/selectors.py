"""Read queries of the dashboard: the queue, the list and one port-out (its timeline and
the recent activity are worded in `portouts.timeline`).

Every page runs a fixed number of queries whatever the amount of data: list rows read
only the triage columns stored on PortOut (first number and count included), and the
timeline reads each source once.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.core.paginator import Paginator
from django.db.models import Count, F, Max, Q, QuerySet
from django.utils import timezone
from django.utils.functional import cached_property

from portouts.choices import LIST_FIELDS
from portouts.models import (
    Comment,
    PortOut,
    PortOutEvent,
    PortOutStatus,
    ReviewAction,
    SupportingDocument,
)

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


def portout_status_counts(*, version: str) -> list[tuple[str, str, int]]:
    """(status, label, count) for every known status, then any unknown status Telnyx sent.

    Counting 100,000 port-outs by status took a tenth of the queue's time (profile); the
    counts only change with the cache, so they are cached per `cache_version`."""
    counts: dict[str, int] = dict(
        cached(
            "portouts:status-counts:" + version,
            lambda: list(
                PortOut.objects.present().values_list("status").annotate(n=Count("id")).order_by()
            ),
        )
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
    Port-outs last seen pending that Telnyx no longer lists stay here (`vanished_at` set,
    the page marks them): Telnyx may still authorize them by default.
    """
    now = timezone.now()
    rows = (
        _queue_pending()
        .only(*LIST_FIELDS, "vanished_at")
        .order_by(F("created_at").asc(nulls_last=True), F("foc_date").asc(nulls_last=True), "id")[
            :limit
        ]
    )
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
        total: int = cached(key, self.queryset.count)
        return total


#: How long a count stays cached; a new cache version makes a new key before that.
COUNT_CACHE_SECONDS = 600


def cached[T](key: str, compute: Callable[[], T]) -> T:
    """compute() kept in the cache under `key` (a key holding a version token). The cache
    is an optimisation: when it does not answer, compute() runs every time."""
    try:
        found = cache.get(key)
    except Exception:
        logger.warning("Count cache unavailable", exc_info=True)
        return compute()
    if found is not None:
        return found  # type: ignore[no-any-return]
    value = compute()
    try:
        cache.set(key, value, COUNT_CACHE_SECONDS)
    except Exception:
        logger.warning("Count cache unavailable", exc_info=True)
    return value


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
    )


def portout_documents(*, portout_id: str) -> list[SupportingDocument]:
    return list(SupportingDocument.objects.filter(portout_id=portout_id).defer("raw"))
