"""Sign-in, roles, health, and the production configuration."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.conftest import PASSWORD

ROOT = Path(__file__).resolve().parent.parent

# Reachable without signing in; everything else must send the visitor to sign-in. The end
# user's confirmation answer is a single-use signed link (tests/test_risk_confirmation.py).
PUBLIC_URL_NAMES = {"login", "healthz", "webhook", "confirmation_answer"}


def _walk(patterns, prefix=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry.name


def _concrete(route: str) -> str:
    """Turn a route with converters into a path, with made-up values."""
    import re

    values = {
        "int": "1",
        "uuid": "00000000-0000-4000-8000-000000000001",
        "folded_section": "past_window",
    }
    path = re.sub(r"<(?:(\w+):)?(\w+)>", lambda m: values.get(m.group(1) or "", "x1"), route)
    path = re.sub(r"\(\?P<(\w+)>[^)]*\)", "x1", path)
    return "/" + path.lstrip("^").rstrip("$").replace("\\Z", "").replace("\\", "")


@pytest.mark.django_db
def test_every_url_needs_sign_in_except_the_public_ones(client):
    checked = 0
    for route, name in _walk(get_resolver().url_patterns):
        if name in PUBLIC_URL_NAMES or route.startswith("admin/"):
            continue
        path = _concrete(route)
        for method in ("get", "post"):
            response = getattr(client, method)(path)
            assert response.status_code in (302, 405), (method, path, response.status_code)
            if response.status_code == 302:
                assert response["Location"].startswith(reverse("login")), (
                    path,
                    response["Location"],
                )
        checked += 1
    assert checked >= 1


@pytest.mark.django_db
def test_admin_pages_need_sign_in(client):
    response = client.get("/admin/")
    assert response.status_code == 302
    follow = client.get(response["Location"])
    assert follow.status_code == 302
    assert follow["Location"].startswith(reverse("login"))


@pytest.mark.django_db
def test_sign_in_then_dashboard_shell(client, viewer):
    response = client.post(reverse("login"), {"username": "vera", "password": PASSWORD})
    assert response.status_code == 302
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert b"Decision queue" in page.content
    assert b"Sign out" in page.content


def _sign_in(client, password, address="10.0.0.1", **extra):
    return client.post(
        reverse("login"),
        {"username": "vera", "password": password},
        REMOTE_ADDR=address,
        **extra,
    )


@pytest.mark.django_db
def test_failed_sign_ins_are_throttled(client, viewer, settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    for _ in range(3):
        assert _sign_in(client, "wrong").status_code == 200
    # Even the right password is refused while throttled.
    response = _sign_in(client, PASSWORD)
    assert response.status_code == 429
    assert b"Too many failed sign-ins" in response.content
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_guessing_from_one_address_does_not_lock_the_user_out_elsewhere(client, viewer, settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    for _ in range(3):
        _sign_in(client, "wrong", address="203.0.113.9")
    assert _sign_in(client, PASSWORD, address="203.0.113.9").status_code == 429
    assert _sign_in(client, PASSWORD, address="198.51.100.7").status_code == 302


@pytest.mark.django_db
def test_many_user_names_from_one_address_are_throttled(client, viewer, settings):
    settings.LOGIN_FAILURE_ADDRESS_LIMIT = 4
    for n in range(4):
        client.post(
            reverse("login"), {"username": f"guess{n}", "password": "x"}, REMOTE_ADDR="10.9.9.9"
        )
    assert _sign_in(client, PASSWORD, address="10.9.9.9").status_code == 429


@pytest.mark.django_db
def test_behind_a_proxy_the_forwarded_client_address_counts(client, viewer, settings):
    settings.LOGIN_FAILURE_LIMIT = 2
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = "10.0.0.254"
    for _ in range(2):
        _sign_in(client, "wrong", address=proxy, HTTP_X_FORWARDED_FOR="203.0.113.9")
    blocked = _sign_in(client, PASSWORD, address=proxy, HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert blocked.status_code == 429
    # Another client behind the same proxy still signs in.
    allowed = _sign_in(client, PASSWORD, address=proxy, HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert allowed.status_code == 302


@pytest.mark.django_db
def test_roles_exist_with_their_permissions():
    viewer = set(Group.objects.get(name="Viewer").permissions.values_list("codename", flat=True))
    reviewer = set(
        Group.objects.get(name="Reviewer").permissions.values_list("codename", flat=True)
    )
    assert "view_portout" in viewer
    assert not viewer & {"review_portout", "request_report", "sync_now"}
    assert {"review_portout", "request_report", "sync_now", "view_portout"} <= reviewer


@pytest.mark.django_db
def test_create_user_command_gives_the_role(django_user_model):
    call_command("create_user", "sam", role="reviewer", password="s3cret-pass-phrase")
    user = django_user_model.objects.get(username="sam")
    assert user.has_perm("portouts.review_portout")
    assert not user.is_staff
    call_command("create_user", "val", role="viewer", password="s3cret-pass-phrase")
    assert not django_user_model.objects.get(username="val").has_perm("portouts.review_portout")


@pytest.mark.django_db
def test_healthz_reports_database_cache_and_broker(client):
    response = client.get("/healthz")
    body = response.json()
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["cache"]["ok"] is True
    assert "broker" in body["checks"]
    assert response.status_code == (200 if body["checks"]["broker"]["ok"] else 503)


def _production_env(**extra: str) -> dict[str, str]:
    # Browser tests set DJANGO_ALLOW_ASYNC_UNSAFE for Playwright; a deployment never would.
    unset = {"DEBUG", "SECRET_KEY", "DJANGO_ALLOW_ASYNC_UNSAFE", "SANDBOX_ENABLED"}
    env = {k: v for k, v in os.environ.items() if k not in unset}
    env.update(
        DEBUG="0",
        SECRET_KEY="p" * 20 + "-production-like-secret-for-the-deploy-check-0123456789",
        ALLOWED_HOSTS="portouts.example.com",
        VAR_DIR=str(ROOT / "var"),
    )
    env.update(extra)
    return env


def test_check_deploy_has_no_warnings():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=_production_env(),
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_secret_key():
    env = _production_env()
    del env["SECRET_KEY"]
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_refuses_to_start_without_allowed_hosts():
    env = _production_env(ALLOWED_HOSTS="")
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "ALLOWED_HOSTS must list" in result.stderr


@pytest.mark.parametrize(
    ("extra", "installed"),
    [({}, False), ({"SANDBOX_ENABLED": "1"}, True), ({"DEBUG": "1"}, True)],
    ids=["production", "production-with-sandbox", "debug"],
)
def test_the_sandbox_command_exists_only_in_debug_or_when_enabled(extra, installed):
    result = subprocess.run(
        [sys.executable, "manage.py", "help", "telnyx_sandbox"],
        cwd=ROOT,
        env=_production_env(**extra),
        capture_output=True,
        text=True,
    )
    assert (result.returncode == 0) is installed, result.stdout + result.stderr
    if not installed:
        assert "Unknown command: 'telnyx_sandbox'" in result.stderr


@pytest.mark.django_db
def test_a_signed_in_user_without_a_role_sees_no_port_out_data(client, django_user_model):
    django_user_model.objects.create_user(username="nobody", password=PASSWORD)
    client.login(username="nobody", password=PASSWORD)
    for name in ("portouts:queue", "portouts:list", "portouts:events", "portouts:reports"):
        response = client.get(reverse(name))
        assert response.status_code == 403, name
        assert b"no role in the dashboard" in response.content
    assert client.get("/healthz").status_code in (200, 503)


@pytest.mark.django_db
def test_htmx_request_with_an_expired_session_redirects_the_whole_page(client):
    response = client.get(
        reverse("portouts:list") + "?status=pending",
        HTTP_HX_REQUEST="true",
        HTTP_HX_CURRENT_URL="http://testserver/portouts/?status=pending",
    )
    assert response.status_code == 200
    assert response["HX-Redirect"] == reverse("login") + "?next=/portouts/%3Fstatus%3Dpending"
