"""The dashboard with a service down: Redis (the cache) refusing connections."""

from __future__ import annotations

import logging
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.conf import settings as django_settings
from django.test import RequestFactory
from django.urls import reverse

from portal import auth
from tests.conftest import PASSWORD

#: Nothing listens on port 1: every connection is refused at once.
DEAD_REDIS = "redis://127.0.0.1:1/0"


@pytest.fixture
def redis_down(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": DEAD_REDIS,
        }
    }


def _sign_in(client, password):
    return client.post(reverse("login"), {"username": "vera", "password": password})


@pytest.mark.django_db
def test_sign_in_works_with_redis_down(client, viewer, redis_down, caplog):
    caplog.set_level(logging.WARNING, logger="portal.auth")
    response = _sign_in(client, PASSWORD)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(viewer.pk)
    warnings = [r for r in caplog.records if r.name == "portal.auth"]
    # One warning per failed cache call: reading the counters, clearing the pair's counter.
    assert len(warnings) == 2
    assert all("the cache is unreachable" in r.getMessage() for r in warnings)


@pytest.mark.django_db
def test_a_wrong_password_with_redis_down_shows_the_form_error(client, viewer, redis_down):
    response = _sign_in(client, "wrong")
    assert response.status_code == 200
    assert b"Please enter a correct username and password" in response.content
    assert "_auth_user_id" not in client.session


@pytest.fixture
def counting_cache(settings):
    """Redis where the suite runs with it (CI), else the local-memory cache: both have an
    atomic incr, so counting can be checked under concurrency."""
    if not django_settings.CACHES["default"]["BACKEND"].endswith("RedisCache"):
        settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    from django.core.cache import cache

    cache.clear()
    return cache


def test_failures_arriving_together_all_count(counting_cache, settings):
    settings.LOGIN_FAILURE_LIMIT = 1000
    request = RequestFactory().post(reverse("login"), REMOTE_ADDR="192.0.2.10")
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # threads interleave often, as requests of busy workers do
    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(lambda _: auth.record_failure(request, "vera"), range(200)))
    finally:
        sys.setswitchinterval(interval)
    pair_key, address_key = auth._keys(request, "vera")
    assert counting_cache.get(pair_key) == 200
    assert counting_cache.get(address_key) == 200


@pytest.mark.django_db
def test_healthz_names_the_cache_when_redis_is_down(client, redis_down):
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["cache"] == {
        "ok": False,
        "error": "The cache does not answer (ConnectionError).",
    }
    assert body["checks"]["database"] == {"ok": True}
    assert DEAD_REDIS not in response.content.decode()  # hosts stay in the log
