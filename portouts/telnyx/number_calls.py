"""The account's number inventory: `GET /phone_numbers` and its filters."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, TypedDict, Unpack

from .paging import Page
from .query import check_filters
from .transport import Transport
from .types import PhoneNumberData

__all__ = ["NumberCalls", "PhoneNumberFilters", "phone_number_query"]


class PhoneNumberFilters(TypedDict, total=False):
    """Filters of `GET /phone_numbers` (each one value, as Telnyx takes them)."""

    phone_number: str | None
    customer_reference: str | None
    tag: str | None
    status: str | None
    source: str | None


def phone_number_query(filters: PhoneNumberFilters) -> dict[str, Any]:
    """The `filter[...]` object."""
    check_filters(filters, PhoneNumberFilters)
    return {key: filters.get(key) for key in PhoneNumberFilters.__annotations__}


class NumberCalls(Transport):
    def list_phone_numbers(
        self, *, page_size: int | None = None, **filters: Unpack[PhoneNumberFilters]
    ) -> Iterator[PhoneNumberData]:
        """Every number of the account matching the filters, across all pages."""
        query = phone_number_query(filters)
        return self._listing("/phone_numbers", query, PhoneNumberData.from_api, page_size)

    def list_phone_numbers_page(
        self,
        *,
        page_number: int = 1,
        page_size: int | None = None,
        **filters: Unpack[PhoneNumberFilters],
    ) -> Page[PhoneNumberData]:
        """One page of the inventory with its meta (the sync stores page by page)."""
        query = phone_number_query(filters)
        return self._page("/phone_numbers", query, PhoneNumberData.from_api, page_number, page_size)
