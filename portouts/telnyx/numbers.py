"""Filters of `GET /phone_numbers`, the account's number inventory.

Kept apart from `client.py` (the transport and the port-out operations): the client's two
inventory methods only hand these filters to its shared paging.
"""

from __future__ import annotations

from typing import Any, TypedDict

__all__ = ["PhoneNumberFilters", "phone_number_query"]


class PhoneNumberFilters(TypedDict, total=False):
    """Filters of `GET /phone_numbers` (each one value, as Telnyx takes them)."""

    phone_number: str | None
    customer_reference: str | None
    tag: str | None
    status: str | None
    source: str | None


def phone_number_query(filters: PhoneNumberFilters) -> dict[str, Any]:
    """The `filter[...]` object; unknown keys are a programming error, not a silent no-op."""
    unknown = set(filters) - set(PhoneNumberFilters.__annotations__)
    if unknown:
        raise TypeError(
            f"unknown filter(s) {sorted(unknown)}; "
            f"allowed: {sorted(PhoneNumberFilters.__annotations__)}"
        )
    return {key: filters.get(key) for key in PhoneNumberFilters.__annotations__}
