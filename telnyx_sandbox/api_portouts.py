"""Handlers of the port-out calls: list and read, the account's decision, rejection codes,
comments and supporting documents."""

from __future__ import annotations

import re
import time

from .entities import ACCOUNT_USER_ID, STATUSES
from .errors import SandboxError
from .filters import PortoutFilter
from .params import Query
from .state import SandboxState
from .wire import Request, Response, data_bytes, data_response, json_response, list_response

__all__ = [
    "create_comment",
    "create_supporting_documents",
    "get_portout",
    "list_comments",
    "list_portouts",
    "list_rejections",
    "list_supporting_documents",
    "update_status",
]

PORTOUT_FILTERS = (
    "filter[carrier_name]",
    "filter[pon]",
    "filter[spid]",
    "filter[status]",
    "filter[status_in]",
    "filter[country_code]",
    "filter[country_code_in]",
    "filter[ported_out_at][gte]",
    "filter[ported_out_at][lte]",
    "filter[inserted_at][gte]",
    "filter[inserted_at][lte]",
    "filter[foc_date]",
    "filter[phone_number]",
    "filter[support_key]",
)
COUNTRY = r"[A-Za-z]{2}"


def _statuses(q: Query) -> list[str] | None:
    """`filter[status]` and `filter[status_in]` together: the statuses in both."""
    status = q.get_enum("filter[status]", STATUSES)
    status_in = q.get_enum_list("filter[status_in]", STATUSES)
    if status is not None and status_in is not None:
        return [s for s in status_in if s == status]
    if status is not None:
        return [status]
    return status_in


def _countries(q: Query) -> list[str] | None:
    """`filter[country_code]` and `filter[country_code_in]` together, each checked."""
    country = q.get_pattern("filter[country_code]", COUNTRY, "a 2-letter country code")
    countries = q.get_list("filter[country_code_in]")
    for code in countries or ():
        if not re.fullmatch(COUNTRY, code):
            raise SandboxError(
                "10016",
                f"'{code}' is not a 2-letter country code.",
                parameter="filter[country_code_in]",
            )
    if country is not None:
        countries = [c for c in (countries or [country]) if c.upper() == country.upper()]
    return countries


def _day(ts: float | None) -> str | None:
    return None if ts is None else time.strftime("%Y-%m-%d", time.gmtime(ts))


def portout_filter(q: Query) -> PortoutFilter:
    """The filter of `GET /portouts`; a malformed parameter is a 422."""
    return PortoutFilter(
        statuses=_statuses(q),
        carrier_name=q.get("filter[carrier_name]"),
        spid=q.get("filter[spid]"),
        pon=q.get("filter[pon]"),
        phone_number=q.get("filter[phone_number]"),
        support_key=q.get("filter[support_key]"),
        country_codes=_countries(q),
        foc_date=_day(q.get_datetime("filter[foc_date]")),
        inserted_gte=q.get_datetime("filter[inserted_at][gte]"),
        inserted_lte=q.get_datetime("filter[inserted_at][lte]"),
        ported_gte=q.get_datetime("filter[ported_out_at][gte]"),
        ported_lte=q.get_datetime("filter[ported_out_at][lte]"),
    )


def list_portouts(state: SandboxState, req: Request) -> Response:
    req.query.check_filters(PORTOUT_FILTERS)
    page, size = req.query.page()
    return list_response(*state.list_portouts(portout_filter(req.query), page, size))


def get_portout(state: SandboxState, req: Request) -> Response:
    with state.lock:
        state.advance()
        return data_bytes(state.portout_json(state.get_portout(req.params["id"])))


def update_status(state: SandboxState, req: Request) -> Response:
    body = req.json()
    with state.lock:
        po = state.update_status(req.params["id"], req.params["status"], body=body)
        return data_bytes(state.portout_json(po))


def _codes(q: Query) -> list[int] | None:
    """`filter[code]` / `filter[code][in]` as integers; None when neither is given."""
    q.check_filters(("filter[code]", "filter[code][in]"))
    if q.values.get("filter[code]") is None and q.values.get("filter[code][in]") is None:
        return None
    codes = []
    for value in (q.get_list("filter[code]") or []) + (q.get_list("filter[code][in]") or []):
        try:
            codes.append(int(value))
        except ValueError:
            raise SandboxError(
                "10016", f"'{value}' is not an integer code.", parameter="filter[code]"
            ) from None
    return codes


def list_rejections(state: SandboxState, req: Request) -> Response:
    return data_response(state.rejection_codes(req.params["id"], _codes(req.query)))


def list_comments(state: SandboxState, req: Request) -> Response:
    comments = state.list_comments(req.params["id"])
    meta = {
        "page_number": 1,
        "page_size": max(len(comments), 1),
        "total_pages": 1,
        "total_results": len(comments),
    }
    return json_response(200, {"data": [c.to_dict() for c in comments], "meta": meta})


def create_comment(state: SandboxState, req: Request) -> Response:
    body = req.json()
    text = body.get("body")
    if text is not None and not isinstance(text, str):
        raise SandboxError("10016", "'body' must be a string.", pointer="/body")
    comment = state.add_comment(req.params["id"], text or "", user_id=ACCOUNT_USER_ID)
    return data_response(comment.to_dict(), 201)


def list_supporting_documents(state: SandboxState, req: Request) -> Response:
    docs = state.list_supporting_documents(req.params["id"])
    # the spec documents 201 for this GET; clients are told to accept any 2xx
    return data_response([d.to_dict() for d in docs], 201)


def create_supporting_documents(state: SandboxState, req: Request) -> Response:
    body = req.json()
    docs = state.add_supporting_documents(req.params["id"], body.get("documents"))
    return data_response([d.to_dict() for d in docs], 201)
