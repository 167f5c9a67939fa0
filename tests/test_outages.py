"""The dashboard with a service down: Redis (the cache) or Telnyx refusing connections."""

from __future__ import annotations

import io
import logging
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.conf import settings as django_settings
from django.core.management import CommandError, call_command
from django.db import OperationalError, connections
from django.test import RequestFactory
from django.urls import reverse
from redis.exceptions import ConnectionError as RedisConnectionError

from portal import auth
from portouts.management.commands.sync_portouts import Command as SyncCommand
from portouts.models import SyncRun
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


@pytest.fixture
def database_down(monkeypatch):
    """Every new query fails as it does when PostgreSQL refuses connections."""

    def refuse():
        raise OperationalError(
            'connection to server at "127.0.0.1", port 5432 failed: Connection refused'
        )

    monkeypatch.setattr(connections["default"], "ensure_connection", refuse)


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


# --------------------------------------------------------------------------- sync_portouts


def _sync_failure(*args: str) -> str:
    with pytest.raises(CommandError) as failure:
        call_command("sync_portouts", *args, stdout=io.StringIO())
    return str(failure.value)


@pytest.mark.django_db
def test_sync_command_with_redis_down_says_so_in_one_sentence(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://:s3cret@127.0.0.1:1/0",
        }
    }
    message = _sync_failure()
    assert message.startswith(
        "The cache (Redis at redis://:***@127.0.0.1:1/0) is unreachable, so the sync cannot "
        "take or keep its lock: "
    )
    assert "Connection refused" in message
    assert "s3cret" not in message
    assert "\n" not in message
    assert not SyncRun.objects.exists()


@pytest.mark.django_db
def test_sync_command_exits_non_zero_with_one_line_on_stderr(redis_down, capsys):
    with pytest.raises(SystemExit) as exit_:
        SyncCommand().run_from_argv(["manage.py", "sync_portouts", "--full"])
    assert exit_.value.code != 0
    err = capsys.readouterr().err
    assert err.startswith(f"CommandError: The cache (Redis at {DEAD_REDIS}) is unreachable")
    assert err.count("\n") == 1
    assert "Traceback" not in err


@pytest.mark.django_db
def test_sync_command_with_the_database_down_says_so_in_one_sentence(database_down):
    message = _sync_failure()
    assert message.startswith("The database (")
    assert ") is unreachable, so the sync stopped: connection to server at" in message


@pytest.fixture
def telnyx_down(settings):
    from portouts.telnyx import get_client

    settings.TELNYX_API_BASE_URL = "http://127.0.0.1:1/v2"  # refuses connections
    settings.TELNYX_MAX_RETRIES = 0
    get_client.cache_clear()
    yield
    get_client.cache_clear()


@pytest.mark.django_db
def test_sync_command_with_telnyx_unreachable_says_so_without_a_traceback(telnyx_down, caplog):
    message = _sync_failure("--full")
    assert message.startswith("The sync failed: Could not reach Telnyx")
    assert "\n" not in message
    # The run is recorded as failed; the sync's own traceback is not printed on top.
    run = SyncRun.objects.get()
    assert run.status == SyncRun.Status.FAILED
    assert "Could not reach Telnyx" in run.error
    assert not [r for r in caplog.records if r.exc_info]


# --------------------------------------------------------------------------- pages: 503


@pytest.mark.django_db
def test_pages_answer_503_with_a_plain_page_when_the_database_is_down(
    reviewer_client, database_down
):
    reviewer_client.raise_request_exception = False
    for path in (reverse("portouts:queue"), reverse("portouts:list"), reverse("login")):
        response = reviewer_client.get(path)
        assert response.status_code == 503, path
        assert response["Retry-After"] == "30"
        text = response.content.decode()
        assert "It cannot reach its database right now" in text
        assert "Traceback" not in text


@pytest.mark.django_db
def test_a_page_that_needs_the_cache_answers_503_when_redis_is_down(reviewer_client, monkeypatch):
    def refused(*args, **kwargs):
        raise RedisConnectionError("Error 111 connecting to 127.0.0.1:1. Connection refused.")

    # The list's own cache use fails open; a page that cannot do without the cache raises.
    monkeypatch.setattr("portouts.views.portouts.selectors.portout_list_base", refused)
    reviewer_client.raise_request_exception = False
    response = reviewer_client.get(reverse("portouts:list"))
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert "It cannot reach its cache (Redis) right now" in response.content.decode()


@pytest.mark.django_db
def test_any_other_error_still_gets_the_500_page(reviewer_client, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr("portouts.views.portouts.selectors.portout_list_base", broken)
    reviewer_client.raise_request_exception = False
    response = reviewer_client.get(reverse("portouts:list"))
    assert response.status_code == 500
    assert "Retry-After" not in response
    assert "Something went wrong" in response.content.decode()


@pytest.mark.django_db
def test_healthz_names_the_database_when_it_is_down(client, database_down):
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == {
        "ok": False,
        "error": "The database does not answer (OperationalError).",
    }
