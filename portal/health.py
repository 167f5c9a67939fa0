"""/healthz: database and broker reachability as JSON, for load balancers and monitors."""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from portal.celery import app as celery_app


def _check_database() -> str | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:
        return type(exc).__name__
    return None


def _check_broker() -> str | None:
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception as exc:
        return type(exc).__name__
    return None


@login_not_required
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    checks = {"database": _check_database(), "broker": _check_broker()}
    ok = all(error is None for error in checks.values())
    body = {
        "status": "ok" if ok else "unavailable",
        "checks": {
            name: {"ok": error is None, **({"error": error} if error else {})}
            for name, error in checks.items()
        },
    }
    return JsonResponse(body, status=200 if ok else 503)
