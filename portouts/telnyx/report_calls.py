"""Telnyx's port-out reports: start one (sent once: one click makes one report), read it,
list them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date, datetime
from typing import Any, TypedDict, Unpack

from .paging import Page
from .query import check_filters, segment, to_utc_datetime
from .transport import Transport
from .types import ReportData

__all__ = ["ReportCalls", "ReportFilters"]


class ReportFilters(TypedDict, total=False):
    """Filters of `GET /portouts/reports`."""

    report_type: str | None
    status: str | None


def _report_query(f: ReportFilters) -> dict[str, Any]:
    check_filters(f, ReportFilters)
    return {"report_type": f.get("report_type"), "status": f.get("status")}


def _jsonable(value: Any) -> Any:
    """Make report filters JSON-safe: datetimes as UTC `Z` strings, tuples/sets as lists."""
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime | date):
        return to_utc_datetime(value)
    return value


class ReportCalls(Transport):
    def list_reports(
        self, *, page_size: int | None = None, **filters: Unpack[ReportFilters]
    ) -> Iterator[ReportData]:
        query = _report_query(filters)
        return self._listing("/portouts/reports", query, ReportData.from_api, page_size)

    def list_reports_page(
        self,
        *,
        page_number: int = 1,
        page_size: int | None = None,
        **filters: Unpack[ReportFilters],
    ) -> Page[ReportData]:
        query = _report_query(filters)
        return self._page("/portouts/reports", query, ReportData.from_api, page_number, page_size)

    def create_report(
        self, *, filters: Mapping[str, Any], report_type: str = "export_portouts_csv"
    ) -> ReportData:
        """Start a report; poll `get_report` until `status == "completed"`.

        `filters` uses the API's keys (status__in, created_at__gt, created_at__lt,
        phone_numbers__overlaps, end_user_name, customer_reference__in); `{}` is
        allowed. Not retried once sent, so one click makes one report.
        """
        body = {"report_type": report_type, "params": {"filters": _jsonable(filters)}}
        data = self._get_object("POST", "/portouts/reports", json=body, retry="not_sent")
        return ReportData.from_api(data)

    def get_report(self, report_id: str) -> ReportData:
        path = f"/portouts/reports/{segment(report_id, 'report_id')}"
        return ReportData.from_api(self._get_object("GET", path))
