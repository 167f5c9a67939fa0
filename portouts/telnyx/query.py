"""What goes into a request's URL, in the style Telnyx expects: query strings, filter
bounds and path segments.

Telnyx list endpoints take OpenAPI `deepObject` parameters: nested keys in
brackets (`filter[inserted_at][gte]=…`, `page[size]=250`). The spec does not fix
how arrays are written; like the official SDK we comma-join them
(`filter[status_in]=pending,authorized`). Datetimes go out as ISO 8601 UTC with
a `Z`, the form shown in every spec example.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time
from typing import Any
from urllib.parse import quote

__all__ = [
    "DateLike",
    "check_filters",
    "date_bound",
    "date_range",
    "encode_query",
    "format_datetime",
    "listish",
    "segment",
    "to_utc_datetime",
]

DateLike = datetime | date | str


def format_datetime(value: datetime) -> str:
    """ISO 8601 in UTC with `Z`; naive datetimes are taken to be UTC already."""
    value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    spec = "milliseconds" if value.microsecond else "seconds"
    return value.isoformat(timespec=spec).replace("+00:00", "Z")


def to_utc_datetime(value: datetime | date | str, *, end_of_day: bool = False) -> str:
    """Format a filter bound for the wire.

    A bare `date` becomes midnight UTC, or the last millisecond of that day when
    it is an upper (`lte`) bound, so "up to 2024-09-04" includes that whole day.
    Strings are sent unchanged (the caller already chose the format).
    """
    if isinstance(value, str):
        return value
    if isinstance(value, datetime):
        return format_datetime(value)
    if isinstance(value, date):
        moment = time(23, 59, 59, 999000) if end_of_day else time(0, 0)
        return format_datetime(datetime.combine(value, moment, tzinfo=UTC))
    raise TypeError(f"expected datetime, date or str, got {type(value).__name__}")


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return format_datetime(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def encode_query(params: Mapping[str, Any], *, prefix: str = "") -> list[tuple[str, str]]:
    """Flatten nested params into `(key, value)` pairs; None values are dropped.

    >>> encode_query({"filter": {"inserted_at": {"gte": "2024-01-01"}, "status_in": ["a", "b"]}})
    [('filter[inserted_at][gte]', '2024-01-01'), ('filter[status_in]', 'a,b')]
    """
    pairs: list[tuple[str, str]] = []
    for key, value in params.items():
        name = f"{prefix}[{key}]" if prefix else str(key)
        if value is None:
            continue
        if isinstance(value, Mapping):
            pairs.extend(encode_query(value, prefix=name))
        elif isinstance(value, Sequence) and not isinstance(value, str | bytes):
            items = [_scalar(v) for v in value if v is not None]
            if items:
                pairs.append((name, ",".join(items)))
        else:
            pairs.append((name, _scalar(value)))
    return pairs


def check_filters(given: Mapping[str, Any], allowed: type) -> None:
    """Refuse filter names the endpoint's TypedDict does not declare: a typo is a
    programming error, not a silent no-op."""
    unknown = set(given) - set(allowed.__annotations__)
    if unknown:
        raise TypeError(
            f"unknown filter(s) {sorted(unknown)}; allowed: {sorted(allowed.__annotations__)}"
        )


def date_bound(value: DateLike | None, *, end_of_day: bool = False) -> str | None:
    return None if value is None else to_utc_datetime(value, end_of_day=end_of_day)


def date_range(gte: DateLike | None, lte: DateLike | None) -> dict[str, str | None] | None:
    """`{gte, lte}` for a `filter[...][gte]/[lte]` pair; a date as `lte` covers its day."""
    if gte is None and lte is None:
        return None
    return {"gte": date_bound(gte), "lte": date_bound(lte, end_of_day=True)}


def listish(value: Sequence[str] | str | None) -> list[str] | None:
    if value is None:
        return None
    return [value] if isinstance(value, str) else list(value)


def segment(value: str, what: str) -> str:
    """Quote an id for use as one path segment; an empty id would hit another endpoint."""
    text = str(value).strip() if value is not None else ""
    if not text:
        raise ValueError(f"{what} is empty")
    return quote(text, safe="")
