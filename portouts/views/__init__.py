"""Views, one module per area of the dashboard."""

from __future__ import annotations

from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails


class HtmxHttpRequest(HttpRequest):
    """A request as the views see it: django-htmx's middleware sets `htmx`, which is true
    for requests htmx made (they get a fragment instead of the whole page)."""

    htmx: HtmxDetails
