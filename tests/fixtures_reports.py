"""Fixtures for reports and events tests: cached port-outs, Telnyx via respx, eager tasks."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import respx

from portouts.models import PortOut
from portouts.telnyx import reset_client
from tests.fixtures_client import TEST_API_KEY, TEST_BASE_URL

STATUSES = ("pending", "authorized", "rejected-pending", "rejected", "canceled", "ported")
BASE_TIME = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def build_portouts(count: int, *, start: int = 0, **fields: Any) -> list[PortOut]:
    """Unsaved port-outs with distinct times, cycling through the statuses."""
    rows = []
    for i in range(start, start + count):
        created = BASE_TIME + timedelta(minutes=i)
        numbers = [f"+1312555{i:04d}", f"+1312556{i:04d}"] if i % 3 == 0 else [f"+1312555{i:04d}"]
        values: dict[str, Any] = {
            "id": f"po-{i:06d}",
            "status": STATUSES[i % len(STATUSES)],
            "phone_numbers": numbers,
            "first_number": numbers[0],
            "number_count": len(numbers),
            "country_code": "US",
            "authorized_name": f"Authorizer {i}",
            "end_user_name": f"End User {i}, Inc.",
            "service_address": f'{i} Main St, "Suite" {i % 7}',
            "city": "Chicago",
            "state": "IL",
            "zip": "60601",
            "carrier_name": ("Acme Mobile", "Blue Wireless", "Cobalt Tel")[i % 3],
            "spid": f"SP{i % 5}",
            "current_carrier": "telnyx",
            "vendor": "vendor-1",
            "pon": f"PON{i:05d}",
            "support_key": f"PO_{i:06d}",
            "lsr": [f"https://example.com/lsr/{i}.pdf"],
            "reason": "" if i % 4 else "Line 1\nline 2",
            "rejection_code": 1002 if i % 4 == 0 else None,
            "foc_date": created + timedelta(days=5),
            "requested_foc_date": created + timedelta(days=4),
            "already_ported": i % 10 == 0,
            "host_messaging": i % 2 == 0,
            "user_id": "user-1",
            "created_at": created,
            "inserted_at": created,
            "updated_at": created + timedelta(hours=1),
            "raw": {"id": f"po-{i:06d}"},
            "synced_at": BASE_TIME,
        }
        values.update(fields)
        rows.append(PortOut(**values))
    return rows


@pytest.fixture
def make_portouts(db) -> Callable[..., list[PortOut]]:
    def make(count: int, **fields: Any) -> list[PortOut]:
        start = PortOut.objects.count()
        return PortOut.objects.bulk_create(
            build_portouts(count, start=start, **fields), batch_size=1000
        )

    return make


@pytest.fixture
def telnyx_mock(settings) -> Iterator[respx.MockRouter]:
    """`get_client()` pointed at a respx-mocked Telnyx; no retries (nothing sleeps)."""
    settings.TELNYX_API_KEY = TEST_API_KEY
    settings.TELNYX_API_BASE_URL = TEST_BASE_URL
    settings.TELNYX_MAX_RETRIES = 0
    reset_client()
    with respx.mock(base_url=TEST_BASE_URL, assert_all_called=False) as router:
        yield router
    reset_client()


@pytest.fixture
def eager_tasks() -> Iterator[None]:
    """Run queued Celery tasks in-process (for tests that need no real worker)."""
    from portal.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


@pytest.fixture
def restored_roles(transactional_db: Any) -> None:
    """Transactional tests flush the database, groups included: put the roles back."""
    from django.contrib.auth.models import Group, Permission

    from portouts.roles import ROLE_PERMISSIONS

    for role, codenames in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.set(
            Permission.objects.filter(content_type__app_label="portouts", codename__in=codenames)
        )
