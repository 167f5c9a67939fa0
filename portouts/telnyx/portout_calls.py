"""The port-out operations: list, read, authorize or reject, rejection codes, comments and
supporting documents (everything under `/portouts/{id}`).

A comment or a set of supporting documents is sent with `retry="not_sent"`: a retry
after it may have reached Telnyx could post it twice.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, Literal, TypedDict, Unpack

from .paging import Page
from .query import DateLike, check_filters, date_bound, date_range, listish, segment
from .transport import Transport
from .types import (
    CommentData,
    PortoutData,
    RejectionCodeData,
    SupportingDocumentData,
)

__all__ = ["PortoutCalls", "PortoutFilters"]

SUPPORTING_DOCUMENT_TYPES = frozenset({"loa", "invoice"})
STATUS_UPDATES = frozenset({"authorized", "rejected-pending"})


class PortoutFilters(TypedDict, total=False):
    """Filters of `GET /portouts` (list values are comma-joined on the wire)."""

    status: str | None
    status_in: Sequence[str] | None
    carrier_name: str | None
    spid: str | None
    pon: str | None
    phone_number: str | None
    support_key: str | None
    country_code: str | None
    country_code_in: Sequence[str] | None
    foc_date: DateLike | None
    inserted_at_gte: DateLike | None
    inserted_at_lte: DateLike | None
    ported_out_at_gte: DateLike | None
    ported_out_at_lte: DateLike | None


def _portout_query(f: PortoutFilters) -> dict[str, Any]:
    check_filters(f, PortoutFilters)
    return {
        "status": f.get("status"),
        "status_in": listish(f.get("status_in")),
        "carrier_name": f.get("carrier_name"),
        "spid": f.get("spid"),
        "pon": f.get("pon"),
        "phone_number": f.get("phone_number"),
        "support_key": f.get("support_key"),
        "country_code": f.get("country_code"),
        "country_code_in": listish(f.get("country_code_in")),
        "foc_date": date_bound(f.get("foc_date")),
        "inserted_at": date_range(f.get("inserted_at_gte"), f.get("inserted_at_lte")),
        "ported_out_at": date_range(f.get("ported_out_at_gte"), f.get("ported_out_at_lte")),
    }


class PortoutCalls(Transport):
    def list_portouts(
        self, *, page_size: int | None = None, **filters: Unpack[PortoutFilters]
    ) -> Iterator[PortoutData]:
        """Every port-out matching the filters, across all pages.

        Dates accept datetime/date/str; a date used as an upper bound (`*_lte`)
        covers that whole day. Empty lists are treated as "no filter".
        """
        query = _portout_query(filters)
        return self._listing("/portouts", query, PortoutData.from_api, page_size)

    def list_portouts_page(
        self,
        *,
        page_number: int = 1,
        page_size: int | None = None,
        **filters: Unpack[PortoutFilters],
    ) -> Page[PortoutData]:
        """One page of port-outs with its meta (for paginated tables)."""
        query = _portout_query(filters)
        return self._page("/portouts", query, PortoutData.from_api, page_number, page_size)

    def get_portout(self, portout_id: str) -> PortoutData:
        path = f"/portouts/{segment(portout_id, 'portout_id')}"
        return PortoutData.from_api(self._get_object("GET", path))

    def update_portout_status(
        self,
        portout_id: str,
        *,
        status: Literal["authorized", "rejected-pending"],
        reason: str,
        host_messaging: bool = False,
        rejection_code: int | None = None,
    ) -> PortoutData:
        """Authorize or reject a pending port-out.

        `rejection_code` is sent as an extra body field when rejecting: the Telnyx
        guide asks for it although the published schema does not list it.
        """
        if status not in STATUS_UPDATES:
            raise ValueError(f"status must be one of {sorted(STATUS_UPDATES)}, got {status!r}")
        if rejection_code is not None and status != "rejected-pending":
            raise ValueError("rejection_code only applies when status is 'rejected-pending'")
        body: dict[str, Any] = {"reason": reason, "host_messaging": bool(host_messaging)}
        if rejection_code is not None:
            body["rejection_code"] = int(rejection_code)
        path = f"/portouts/{segment(portout_id, 'portout_id')}/{status}"
        return PortoutData.from_api(self._get_object("PATCH", path, json=body))

    def list_rejection_codes(
        self, portout_id: str, *, code: int | None = None, code_in: Sequence[int] | None = None
    ) -> list[RejectionCodeData]:
        """Rejection codes Telnyx accepts for this port-out (not paginated)."""
        if code is not None and code_in is not None:
            raise ValueError("pass code or code_in, not both")
        filters: dict[str, Any] = {}
        if code is not None:
            filters["code"] = int(code)
        elif code_in is not None:
            filters["code"] = {"in": [int(c) for c in code_in]}
        path = f"/portouts/rejections/{segment(portout_id, 'portout_id')}"
        params = {"filter": filters} if filters else None
        return [RejectionCodeData.from_api(d) for d in self._get_list("GET", path, params=params)]

    def list_comments(self, portout_id: str) -> list[CommentData]:
        path = f"/portouts/{segment(portout_id, 'portout_id')}/comments"
        return [CommentData.from_api(d) for d in self._get_list("GET", path)]

    def create_comment(self, portout_id: str, *, body: str) -> CommentData:
        """Post a comment. Not retried once sent: a retry could post it twice."""
        if not body or not body.strip():
            raise ValueError("comment body is empty")
        path = f"/portouts/{segment(portout_id, 'portout_id')}/comments"
        data = self._get_object("POST", path, json={"body": body}, retry="not_sent")
        return CommentData.from_api(data)

    def list_supporting_documents(self, portout_id: str) -> list[SupportingDocumentData]:
        """Documents attached to a port-out (Telnyx documents this GET as 201; any 2xx is fine)."""
        path = f"/portouts/{segment(portout_id, 'portout_id')}/supporting_documents"
        return [SupportingDocumentData.from_api(d) for d in self._get_list("GET", path)]

    def create_supporting_documents(
        self, portout_id: str, *, documents: Sequence[tuple[str, str]]
    ) -> list[SupportingDocumentData]:
        """Attach 1–10 uploaded documents, each `(type, document_id)` with type "loa"/"invoice"."""
        if not 1 <= len(documents) <= 10:
            raise ValueError("attach between 1 and 10 documents at a time")
        items = []
        for doc_type, document_id in documents:
            if doc_type not in SUPPORTING_DOCUMENT_TYPES:
                raise ValueError(f"document type must be 'loa' or 'invoice', got {doc_type!r}")
            if not document_id:
                raise ValueError("document_id is empty")
            items.append({"type": doc_type, "document_id": str(document_id)})
        path = f"/portouts/{segment(portout_id, 'portout_id')}/supporting_documents"
        data = self._get_list("POST", path, json={"documents": items}, retry="not_sent")
        return [SupportingDocumentData.from_api(d) for d in data]
