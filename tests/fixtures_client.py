"""Fixtures for code that talks to Telnyx through `portouts.telnyx` (respx-mocked).

`telnyx_client` never really sleeps: waits between retries are recorded in
`telnyx_sleeps` instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import respx

from portouts.telnyx import TelnyxClient, reset_client

TEST_BASE_URL = "https://api.telnyx.test/v2"
TEST_API_KEY = "KEY0123TESTsecretValue_abcdef"


def portout_json(**overrides: Any) -> dict[str, Any]:
    """A `PortoutDetails` object shaped like the spec example."""
    data: dict[str, Any] = {
        "id": "0ccc7b54-4df3-4bca-a65a-3da1ecc777f0",
        "record_type": "portout",
        "phone_numbers": ["+35312345678"],
        "authorized_name": "McPortersen",
        "carrier_name": "test",
        "current_carrier": "telnyx",
        "end_user_name": "McPortersen",
        "city": "Chicago",
        "state": "IL",
        "zip": "00000",
        "lsr": ["https://example.com/files/lsr.pdf"],
        "pon": "00000000",
        "reason": None,
        "rejection_code": 1002,
        "service_address": "000 Example Street",
        "foc_date": "2018-02-02T22:25:27.521Z",
        "requested_foc_date": "2018-02-03T22:25:27.521Z",
        "spid": "0ccc7b54-4df3-4bca-a65a-3da1ecc777f0",
        "support_key": "PO_764725",
        "status": "pending",
        "already_ported": False,
        "user_id": "7865816a-ee85-4e50-b19e-52983dcc6d4a",
        "vendor": "0e66ed3b-37e6-4fed-93d6-a30ce2493661",
        "created_at": "2018-02-02T22:25:27.521Z",
        "inserted_at": "2018-02-02T22:25:27.521Z",
        "updated_at": "2018-02-04T08:00:00Z",
        "host_messaging": False,
    }
    data.update(overrides)
    return data


def page_json(items: list[dict[str, Any]], *, page: int, total_pages: int, size: int = 250):
    """A list response body with `meta` as Telnyx sends it."""
    return {
        "data": items,
        "meta": {
            "page_number": page,
            "page_size": size,
            "total_pages": total_pages,
            "total_results": len(items) if total_pages <= 1 else total_pages * size,
        },
    }


@pytest.fixture
def telnyx_sleeps() -> list[float]:
    """Seconds the client would have slept between retries."""
    return []


@pytest.fixture
def telnyx_client(telnyx_sleeps: list[float]) -> Iterator[TelnyxClient]:
    client = TelnyxClient(
        TEST_API_KEY, base_url=TEST_BASE_URL, max_retries=3, sleep=telnyx_sleeps.append
    )
    yield client
    client.close()


@pytest.fixture
def telnyx_api() -> Iterator[respx.MockRouter]:
    """A respx router for `TEST_BASE_URL`; unmatched requests fail the test."""
    with respx.mock(base_url=TEST_BASE_URL, assert_all_called=False) as router:
        yield router


@pytest.fixture
def fresh_telnyx_client() -> Iterator[None]:
    """Forget the cached `get_client()` instance before and after the test."""
    reset_client()
    yield
    reset_client()
