"""Fixtures for the dashboard's pages and review flows.

- `make_portout(**fields)`: a cached PortOut (with its PortOutNumber rows) written straight to
  the database, for page tests that need no Telnyx at all.
- `synced`: the sandbox (see fixtures_sandbox) with a full sync run into the cache; Telnyx
  retries are off so fault tests answer at once.
- `fast_passwords`: a cheap password hasher (use it autouse in page test modules).
- `pending_portout(synced)`: the id of a pending port-out that has rejection codes.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.utils import timezone

from portouts.models import PortOut, PortOutNumber

_ids = itertools.count(1)


def build_portout(**fields: Any) -> PortOut:
    n = next(_ids)
    numbers = fields.pop("phone_numbers", [f"+1312555{n:04d}"])
    now = timezone.now()
    values: dict[str, Any] = {
        "id": f"po-{n:06d}",
        "status": "pending",
        "phone_numbers": numbers,
        "first_number": numbers[0] if numbers else "",
        "number_count": len(numbers),
        "country_code": "US",
        "end_user_name": f"End User {n}",
        "authorized_name": "Pat Example",
        "carrier_name": "Gaining Wireless",
        "spid": f"S{n:03d}",
        "pon": f"PON-{n:05d}",
        "support_key": f"PO_{700000 + n}",
        "foc_date": (now + timedelta(days=5)).replace(hour=0, minute=0, second=0, microsecond=0),
        "requested_foc_date": (now + timedelta(days=4)).replace(
            hour=0, minute=0, second=0, microsecond=0
        ),
        "created_at": now - timedelta(hours=2),
        "inserted_at": now - timedelta(hours=2),
        "updated_at": now - timedelta(hours=1),
        "synced_at": now,
    }
    values.update(fields)
    return PortOut(**values)


@pytest.fixture
def fast_passwords(settings: Any) -> None:
    """User fixtures hash a password; a cheap hasher keeps page tests fast."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def make_portout(db: Any) -> Callable[..., PortOut]:
    def make(**fields: Any) -> PortOut:
        portout = build_portout(**fields)
        portout.save()
        PortOutNumber.objects.bulk_create(
            [PortOutNumber(portout=portout, number=x) for x in portout.phone_numbers]
        )
        return portout

    return make


def bulk_portouts(count: int, **fields: Any) -> list[PortOut]:
    """Many cached port-outs (two numbers each) in two queries."""
    rows = PortOut.objects.bulk_create(
        [
            build_portout(phone_numbers=[f"+1212{i:07d}", f"+1646{i:07d}"], **fields)
            for i in range(count)
        ]
    )
    PortOutNumber.objects.bulk_create(
        [PortOutNumber(portout=p, number=n) for p in rows for n in p.phone_numbers]
    )
    return rows


@pytest.fixture
def synced(sandbox_settings: Any, settings: Any, db: Any) -> Any:
    from portouts import sync
    from portouts.telnyx import get_client

    settings.TELNYX_MAX_RETRIES = 0
    get_client.cache_clear()
    sync.run_full_sync(triggered_by="test")
    return sandbox_settings


@pytest.fixture
def pending_portout(synced: Any) -> str:
    """A pending port-out of the sandbox whose eligible codes include 1001 (reason required)
    and an optional one."""
    for po in PortOut.objects.pending().order_by("created_at"):
        codes = synced.state.get_portout(po.id).rejection_codes
        if 1001 in codes and any(c != 1001 for c in codes):
            return po.id
    po = synced.state.create_portout()
    from portouts import sync

    sync.refresh_portout(po.id)
    return po.id


def signed_in(django_user_model: Any, name: str, role: str = "Reviewer") -> Client:
    """A test client signed in as a new user of `role` (default Reviewer)."""
    user = django_user_model.objects.create_user(username=name, password="x")
    user.groups.add(Group.objects.get(name=role))
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def ana(db: Any, django_user_model: Any) -> Client:
    """A reviewer; with `ben`, two people working the same queue."""
    return signed_in(django_user_model, "ana")


@pytest.fixture
def ben(db: Any, django_user_model: Any) -> Client:
    return signed_in(django_user_model, "ben")
