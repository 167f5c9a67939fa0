"""Error pages: 503 when the database or the cache is down, Django's 500 page otherwise."""

from __future__ import annotations

import sys

from django.http import HttpRequest, HttpResponse
from django.template import loader
from django.views import defaults

from portal.outages import service_down

#: How the 503 page names each service.
SERVICE_NAMES = {"database": "its database", "cache": "its cache (Redis)"}
RETRY_AFTER_SECONDS = 30


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500. An outage is not a bug: the reviewer gets "try again shortly" with
    Retry-After, from a template rendered without the request, so no context processor and
    no base template reaches for the service that is down."""
    service = service_down(sys.exc_info()[1])
    if service is None:
        return defaults.server_error(request)
    body = loader.get_template("503.html").render({"service": SERVICE_NAMES[service]})
    response = HttpResponse(body, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
