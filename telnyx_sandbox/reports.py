"""Port-out reports (export_portouts_csv): what a request must hold, and the CSV it yields.

A report is accepted pending; the scheduler completes it after the report delay by
rendering the CSV into a new document (see `SandboxState.advance`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from .entities import REPORT_TYPES, STATUSES, PortOut, Report, iso
from .errors import SandboxError
from .filters import PortoutFilter
from .indexes import Key
from .params import parse_datetime

__all__ = [
    "CSV_COLUMNS",
    "export_filename",
    "matching_report_keys",
    "render_csv",
    "report_filter",
    "report_request",
]

REPORT_FILTER_KEYS = (
    "status__in",
    "customer_reference__in",
    "end_user_name",
    "phone_numbers__overlaps",
    "created_at__lt",
    "created_at__gt",
)

CSV_COLUMNS = (
    "id",
    "support_key",
    "status",
    "phone_numbers",
    "carrier_name",
    "spid",
    "pon",
    "end_user_name",
    "authorized_name",
    "service_address",
    "city",
    "state",
    "zip",
    "customer_reference",
    "foc_date",
    "requested_foc_date",
    "rejection_code",
    "reason",
    "created_at",
    "updated_at",
)


def report_request(body: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """(report_type, filters) of POST /portouts/reports, checked as Telnyx does."""
    report_type = body.get("report_type")
    if report_type is None:
        raise SandboxError("10004", "The 'report_type' field is required.", pointer="/report_type")
    if report_type not in REPORT_TYPES:
        raise SandboxError(
            "10016", "'report_type' must be export_portouts_csv.", pointer="/report_type"
        )
    params = body.get("params")
    if not isinstance(params, dict):
        raise SandboxError("10004", "The 'params' object is required.", pointer="/params")
    filters = params.get("filters")
    if not isinstance(filters, dict):
        raise SandboxError(
            "10004", "The 'params.filters' object is required.", pointer="/params/filters"
        )
    return report_type, _checked_filters(filters)


def _checked_filters(filters: Mapping[str, Any]) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    for raw_key, value in filters.items():
        key = raw_key[:-2] if raw_key.endswith("[]") else raw_key
        pointer = f"/params/filters/{raw_key}"
        if key not in REPORT_FILTER_KEYS:
            raise SandboxError("10016", f"Unknown report filter '{raw_key}'.", pointer=pointer)
        if key.endswith("__in") or key.endswith("__overlaps"):
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise SandboxError("10016", f"'{key}' must be a list of strings.", pointer=pointer)
            if key == "status__in":
                for status in value:
                    if status not in STATUSES:
                        raise SandboxError(
                            "10016", f"'{status}' is not a port-out status.", pointer=pointer
                        )
        elif key.startswith("created_at"):
            if not isinstance(value, str) or parse_datetime(value) is None:
                raise SandboxError(
                    "10016", f"'{key}' must be an ISO 8601 date-time.", pointer=pointer
                )
        elif not isinstance(value, str):
            raise SandboxError("10016", f"'{key}' must be a string.", pointer=pointer)
        clean[key] = value
    return clean


def report_filter(filters: Mapping[str, Any]) -> PortoutFilter:
    """The port-out list filter a report's (checked) filters stand for."""
    return PortoutFilter(
        statuses=filters.get("status__in"),
        customer_references=filters.get("customer_reference__in"),
        end_user_name=filters.get("end_user_name"),
        phone_numbers_any=filters.get("phone_numbers__overlaps"),
        created_gt=parse_datetime(filters["created_at__gt"])
        if "created_at__gt" in filters
        else None,
        created_lt=parse_datetime(filters["created_at__lt"])
        if "created_at__lt" in filters
        else None,
    )


def render_csv(portouts: Iterable[PortOut]) -> bytes:
    """The export's CSV: a header row, then one row per port-out in the order given."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for po in portouts:
        writer.writerow(
            [
                po.id,
                po.support_key,
                po.status,
                " ".join(po.phone_numbers),
                po.carrier_name,
                po.spid,
                po.pon,
                po.end_user_name,
                po.authorized_name,
                po.service_address,
                po.city,
                po.state,
                po.zip,
                po.customer_reference,
                iso(po.foc_ts),
                iso(po.requested_foc_ts),
                "" if po.rejection_code is None else po.rejection_code,
                po.reason or "",
                iso(po.created_ts),
                iso(po.updated_ts),
            ]
        )
    return out.getvalue().encode()


def export_filename(at: float) -> str:
    """The name of the CSV document a report completed at `at` produces."""
    stamp = datetime.fromtimestamp(at, UTC).strftime("%Y%m%dT%H%M%S")
    return f"portouts-export-{stamp}.csv"


def matching_report_keys(
    reports: Mapping[str, Report],
    order: Iterable[Key],
    *,
    report_type: str | None,
    status: str | None,
) -> list[Key]:
    """Keys (oldest first) of the reports GET /portouts/reports' filters select."""
    return [
        k
        for k in order
        if (report_type is None or reports[k[1]].report_type == report_type)
        and (status is None or reports[k[1]].status == status)
    ]
