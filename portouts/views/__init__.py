"""Views, one module per area of the dashboard."""

from __future__ import annotations

from django.http import HttpRequest
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
