"""Read queries of the dashboard: the queue, the list and one port-out (its timeline and
the recent activity are worded in `portouts.timeline`).

Every page runs a fixed number of queries whatever the amount of data: list rows read
only the triage columns stored on PortOut (first number and count included), and the
timeline reads each source once.
"""

from __future__ import annotations

import hashlib
import html
import logging
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TypedDict
from urllib.parse import quote

from django.core.cache import cache
from django.core.paginator import Paginator
from django.db.models import Count, Max, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.safestring import SafeString

from portouts import desk
from portouts.choices import LIST_FIELDS, PortOutStatus, status_label, status_tone
from portouts.models import (
    Comment,
    PortOut,
    PortOutEvent,
    ReviewAction,
    SupportingDocument,
)
from portouts.risk.selectors import risk_version
from portouts.urgency import deadline_at, left_text
from portouts.urgency import deadline_for as deadline_for  # the port-out page's deadline

logger = logging.getLogger(__name__)


def cell(text: str) -> SafeString:
    """A table cell escaped here, as autoescaping would (`html.escape`, quotes included), so
    the template prints it as it is: Django's own escaping of each value (a lazy-argument
    check and a copy) was a fifth of the queue's time (~4,000 cells) and of the list's."""
    return SafeString(html.escape(text))


# -- queue ---------------------------------------------------------------------------


def portout_status_counts(*, version: str) -> list[tuple[str, str, int]]:
    """(status, label, count) for every known status, then any unknown status Telnyx sent.

    Counting every cached port-out by status is the queue's costliest query (100,000 rows);
    its result only changes with `cache_version`, so it is cached under it. COUNT(*) lets
    both databases count from the index on (vanished_at, status) without reading the rows.
    """
    key = f"portouts:status-counts:{version}"
    try:
        counts = cache.get(key)
    except Exception:  # the cache is an optimisation: count without it
        logger.warning("Status count cache unavailable", exc_info=True)
        counts = None
    if not isinstance(counts, dict):
        counts = dict(
            PortOut.objects.present().values_list("status").annotate(n=Count("*")).order_by()
        )
        try:
            cache.set(key, counts, COUNT_CACHE_SECONDS)
        except Exception:
            logger.warning("Status count cache unavailable", exc_info=True)
    counts = dict(counts)
    rows = [(s.value, s.label, counts.pop(s.value, 0)) for s in PortOutStatus]
    rows += [(status, status, n) for status, n in sorted(counts.items())]
    return rows


# -- list ------------------------------------------------------------------------------


def portout_list_base() -> QuerySet[PortOut]:
    """The rows the list starts from, before filters: cached port-outs Telnyx still lists."""
    return PortOut.objects.present().only(*LIST_FIELDS)


class ListRow(TypedDict):
    """One row of the list, every text cell escaped (`cell`) but `id` and the bucket (a
    plain dict: the template engine looks dict keys up first, which keeps 250 rows cheap
    to render)."""

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
    time_left: str
    time_left_bucket: str


def _utc_day(value: datetime | None) -> str:
    return value.astimezone(UTC).date().isoformat() if value else ""


def list_rows(portouts: Iterable[PortOut]) -> list[ListRow]:
    """The page's rows with their cells formatted and escaped ("—" for an empty cell)."""
    # reverse() once, then the ids are quoted into the same pattern.
    marker = "portout-id-marker"
    pattern = reverse("portouts:detail", args=[marker])
    zone = timezone.get_current_timezone()
    now = timezone.now()
    rows: list[ListRow] = []
    for p in portouts:
        created = p.created_at.astimezone(zone) if p.created_at else None
        pending = p.status == PortOutStatus.PENDING
        deadline = deadline_at(p.created_at, now=now) if pending else None
        rows.append(
            {
                "url": cell(pattern.replace(marker, quote(p.id, safe=""))),
                "status_label": cell(status_label(p.status)),
                "status_tone": cell(status_tone(p.status)),
                "number": cell(p.first_number or "—"),
                "more_numbers": max(0, p.number_count - 1),
                "number_count": p.number_count,
                "end_user": cell(p.end_user_name or "—"),
                "carrier": cell(p.carrier_name or "—"),
                "spid": cell(p.spid),
                "pon": cell(p.pon or "—"),
                "foc": cell(_utc_day(p.foc_date) or "—"),
                "requested_foc": cell(_utc_day(p.requested_foc_date) or "—"),
                "created": cell(created.strftime("%Y-%m-%d %H:%M %Z") if created else ""),
                "created_iso": cell(created.isoformat() if created else ""),
                "key": cell(p.support_key or p.id),
                "time_left": cell(left_text(deadline) if deadline else "—"),
                "time_left_bucket": deadline.time_left.value if deadline else "",
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
        desk.desk_version(portout_id=portout_id),
        risk_version(portout_id=portout_id),
    )


def portout_documents(*, portout_id: str) -> list[SupportingDocument]:
    return list(SupportingDocument.objects.filter(portout_id=portout_id).defer("raw"))
