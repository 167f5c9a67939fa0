"""Pages of a list endpoint and the one walker over them (the client's and the sync's)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from .fields import WireType

__all__ = ["Page", "PageMeta", "walk_pages"]


@dataclass(frozen=True)
class PageMeta(WireType):
    """Pagination block of a list response (`Metadata` / `PaginationMeta`)."""

    page_number: int | None = None
    page_size: int | None = None
    total_pages: int | None = None
    total_results: int | None = None


@dataclass(frozen=True)
class Page[T]:
    """One page of a list endpoint, with its pagination meta."""

    data: list[T]
    meta: PageMeta

    @property
    def has_next(self) -> bool:
        """True when Telnyx reports more pages after this one (and this one was not empty)."""
        return self.next_number(self.meta.page_number or 1) is not None

    def next_number(self, asked: int) -> int | None:
        """The page to ask for after this one (asked as `asked`), or None at the end: an
        empty page, no total, or the last page (by the number Telnyx echoes, never behind
        the one asked, so a server that echoes nothing cannot loop the walk)."""
        current = max(self.meta.page_number or asked, asked)
        total = self.meta.total_pages
        if not self.data or total is None or current >= total:
            return None
        return current + 1


def walk_pages[T](fetch: Callable[[int], Page[T]]) -> Iterator[Page[T]]:
    """Pages 1, 2, ... of a listing until Telnyx says there is no next; the one page walker
    of the client and the sync."""
    number: int | None = 1
    while number is not None:
        page = fetch(number)
        yield page
        number = page.next_number(number)
