"""Read queries of the dashboard: the queue, the list and one port-out (its timeline and
the recent activity are worded in `portouts.timeline`).

Every page runs a fixed number of queries whatever the amount of data: list rows read
only the triage columns stored on PortOut (first number and count included), and the
timeline reads each source once.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, TypedDict
from urllib.parse import quote

from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Count, Max, Prefetch, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.safestring import SafeString

from portouts import desk
from portouts.choices import LIST_FIELDS, PortOutStatus, status_label, status_tone
from portouts.models import (
    Comment,
    ConfirmationRequest,
    PortOut,
    PortOutEvent,
    ReviewAction,
    SupportingDocument,
)
from portouts.risk.selectors import risk_version_parts
from portouts.urgency import deadline_at, left_text
from portouts.urgency import deadline_for as deadline_for  # the port-out page's deadline
from portouts.versions import PreparedQuery, per_portout, token, version_cached


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
    counts = version_cached(
        f"portouts:status-counts:{version}",
        lambda: dict(
            PortOut.objects.present().values_list("status").annotate(n=Count("*")).order_by()
        ),
        kind=dict,
    )
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
        key = "portouts:list-count:" + token(self.version, sql, repr(params))
        return version_cached(key, self.queryset.count, kind=int)


def cache_version() -> str:
    """A cheap token that changes whenever the cache or the audit trail changes."""
    # Every maximum comes from an index. Rows are never deleted from the cache: a port-out
    # Telnyx stops listing is flagged (vanished_at), and a stored row gets a new synced_at.
    # One query of scalar subqueries, one maximum each: SQLite answers a lone MAX from the
    # index, two in one SELECT by a full scan; written in SQL, as the ORM has no SELECT
    # without a table, and this runs on every page and every poll.
    name = connection.ops.quote_name
    portouts, actions = name(PortOut._meta.db_table), name(ReviewAction._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT (SELECT MAX(synced_at) FROM {portouts}),"
            f" (SELECT MAX(vanished_at) FROM {portouts}),"
            f" (SELECT MAX(id) FROM {actions}), (SELECT MAX(finished_at) FROM {actions})"
        )
        return token(*cursor.fetchone())


# -- one port-out ----------------------------------------------------------------------


def _portout_version_query(portout_id: str) -> QuerySet[PortOut, tuple[Any, ...]]:
    parts = {
        "v_events": per_portout(PortOutEvent, Count("id")),
        "v_event_last": per_portout(PortOutEvent, Max("received_at")),
        "v_comments": per_portout(Comment, Count("id")),
        "v_comment_last": per_portout(Comment, Max("created_at")),
        "v_documents": per_portout(SupportingDocument, Count("id")),
        "v_action_last": per_portout(ReviewAction, Max("id")),
        "v_action_done": per_portout(ReviewAction, Max("finished_at")),
        **desk.desk_version_parts(),
        **risk_version_parts(),
    }
    return (
        PortOut.objects.filter(id=portout_id)
        .annotate(**parts)
        .values_list("synced_at", "details_synced_at", *parts)
        .order_by()
    )


_PORTOUT_VERSION = PreparedQuery(_portout_version_query)


def portout_version(*, portout_id: str) -> str:
    """Token of one port-out page, in one query compiled once: the row, its events,
    comments, documents and actions, the desk's notes and prepared rejections, and its risk
    flags."""
    return token(_PORTOUT_VERSION.first_row(portout_id))


def portout_page_rows() -> QuerySet[PortOut]:
    """Port-outs with what their page reads beside them: the risk assessment and outcome
    (one row each, joined) and the confirmation requests, which both the risk panel and the
    timeline show. Two queries rather than four for a page."""
    return (
        PortOut.objects.defer("raw")
        .select_related("risk", "outcome")
        .prefetch_related(
            Prefetch(
                "confirmation_requests",
                queryset=ConfirmationRequest.objects.select_related("sent_by"),
            )
        )
    )


def portout_documents(*, portout_id: str) -> list[SupportingDocument]:
    return list(SupportingDocument.objects.filter(portout_id=portout_id).defer("raw"))
