"""Shared fixtures: users for each role and signed-in test clients."""

from __future__ import annotations

import os

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from portouts.roles import REVIEWER, VIEWER

pytest_plugins: list[str] = []
pytest_plugins.append("tests.fixtures_client")
pytest_plugins.append("tests.fixtures_sandbox")
pytest_plugins.append("tests.fixtures_celery")
pytest_plugins.append("tests.fixtures_reports")
pytest_plugins.append("tests.fixtures_dashboard")
pytest_plugins.append("tests.fixtures_alerts")

PASSWORD = "correct horse battery staple"


def pytest_report_header(config) -> list[str]:
    """Say which database and broker the suite runs on, so CI output shows it."""
    from django.conf import settings

    db = settings.DATABASES["default"]
    return [
        f"database: {db['ENGINE'].rsplit('.', 1)[-1]} ({db.get('HOST') or db['NAME']})",
        f"celery broker: {settings.CELERY_BROKER_URL.split('://', 1)[0]}",
    ]


@pytest.fixture(scope="session", autouse=True)
def _own_file_cache(tmp_path_factory):
    """Without Redis the cache is a folder: give this run its own, shared with the workers
    it starts (they inherit CACHE_DIR), so other runs and a running demo never touch it."""
    from django.conf import settings as django_settings
    from django.test import override_settings

    default = django_settings.CACHES["default"]
    if not default["BACKEND"].endswith("FileBasedCache"):
        yield
        return
    location = str(tmp_path_factory.mktemp("cache"))
    os.environ["CACHE_DIR"] = location
    with override_settings(CACHES={"default": {**default, "LOCATION": location}}):
        yield
    os.environ.pop("CACHE_DIR", None)


@pytest.fixture(autouse=True)
def _isolated_media_and_cache(settings, tmp_path):
    """Each test writes files under its own folder and starts with an empty cache."""
    from django.core.cache import cache

    settings.MEDIA_ROOT = tmp_path / "media"
    cache.clear()


def _make_user(django_user_model, username: str, group: str | None, *, staff: bool = False):
    user = django_user_model.objects.create_user(
        username=username, password=PASSWORD, is_staff=staff, is_superuser=staff
    )
    if group:
        user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def viewer(db, django_user_model):
    return _make_user(django_user_model, "vera", VIEWER)


@pytest.fixture
def reviewer(db, django_user_model):
    return _make_user(django_user_model, "rita", REVIEWER)


@pytest.fixture
def admin_user(db, django_user_model):
    return _make_user(django_user_model, "ada", REVIEWER, staff=True)


@pytest.fixture
def viewer_client(viewer) -> Client:
    client = Client()
    client.force_login(viewer)
    return client


@pytest.fixture
def reviewer_client(reviewer) -> Client:
    client = Client()
    client.force_login(reviewer)
    return client


@pytest.fixture
def admin_client_user(admin_user) -> Client:
    client = Client()
    client.force_login(admin_user)
    return client
