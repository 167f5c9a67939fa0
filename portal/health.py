"""/healthz: whether the database, the cache and the broker answer, as JSON.

For load balancers and monitors: 200 when all answer, else 503 naming the service that does
not, with a plain error (the exception's type; its details, which name hosts, only in the
log, since /healthz needs no sign-in).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.contrib.auth.decorators import login_not_required
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from portal.celery import app as celery_app

logger = logging.getLogger(__name__)

CACHE_KEY = "healthz"


def _check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _check_cache() -> None:
    """A write and a read: the sign-in throttle and the sync lock need both."""
    cache.set(CACHE_KEY, "ok", timeout=60)
    if cache.get(CACHE_KEY) != "ok":
        raise LookupError("a value written to the cache could not be read back")


def _check_broker() -> None:
    with celery_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)


CHECKS: dict[str, Callable[[], None]] = {
    "database": _check_database,
    "cache": _check_cache,
    "broker": _check_broker,
}


def _error(name: str, check: Callable[[], None]) -> str | None:
    try:
        check()
    except Exception as exc:
        logger.warning("Health check: the %s does not answer: %s", name, exc)
        return f"The {name} does not answer ({type(exc).__name__})."
    return None


@login_not_required
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    checks = {name: _error(name, check) for name, check in CHECKS.items()}
    ok = all(error is None for error in checks.values())
    body = {
        "status": "ok" if ok else "unavailable",
        "checks": {
            name: {"ok": error is None, **({"error": error} if error else {})}
            for name, error in checks.items()
        },
    }
    return JsonResponse(body, status=200 if ok else 503)
