"""Views, one module per area of the dashboard."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers, patch_vary_headers
from django_htmx.middleware import HtmxDetails


class HtmxHttpRequest(HttpRequest):
    """A request as the views see it: django-htmx's middleware sets `htmx`, which is true
    for requests htmx made (they get a fragment instead of the whole page)."""

    htmx: HtmxDetails


#: Header in which htmx polling sends the version token of what the page shows.
VERSION_HEADER = "X-Cache-Version"


def shows_version(request: HtmxHttpRequest, version: str) -> bool:
    """Whether this is htmx polling from a page that already shows `version` (so the answer
    is a 204: nothing to swap)."""
    return bool(request.htmx) and request.headers.get(VERSION_HEADER) == version


def wants_fragment(request: HtmxHttpRequest) -> bool:
    """htmx asks for a fragment, except when it restores a page from history (Back after a
    pushed address): that answer replaces the whole page."""
    return bool(request.htmx) and not request.htmx.history_restore_request


def fragment_headers(request: HtmxHttpRequest, response: HttpResponse) -> HttpResponse:
    """A page and its fragments share an address: say the answer depends on `HX-Request`,
    and never store a fragment or a 204, so Back and a reload never show one as the page."""
    patch_vary_headers(response, ["HX-Request"])
    if wants_fragment(request) or response.status_code == 204:
        add_never_cache_headers(response)
    return response
