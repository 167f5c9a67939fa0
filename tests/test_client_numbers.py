"""The client's inventory calls (`GET /phone_numbers`) against respx: filters, paging, errors."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from portouts.telnyx import (
    AuthenticationError,
    NotFoundError,
    PhoneNumberData,
    RateLimitError,
)
from tests.fixtures_client import page_json


def number_json(number: str = "+13125550100", **overrides):
    """A phone-number record shaped as Telnyx sends it."""
    data = {
        "id": "1293384261075731499",
        "record_type": "phone_number",
        "phone_number": number,
        "status": "active",
        "tags": ["billing", "hq"],
        "customer_reference": "acme",
        "purchased_at": "2024-03-01T12:00:00Z",
        "created_at": "2024-03-01T12:00:00Z",
        "updated_at": "2025-01-02T08:30:00.123Z",
        "source": "ported",
        "connection_id": "1498244353",
        "deletion_lock_enabled": False,
    }
    data.update(overrides)
    return data


def test_every_filter_and_the_paging_go_out_deep_object_encoded(telnyx_client, telnyx_api):
    route = telnyx_api.get("/phone_numbers").mock(
        return_value=httpx.Response(200, json=page_json([number_json()], page=2, total_pages=3))
    )
    page = telnyx_client.list_phone_numbers_page(
        page_number=2,
        page_size=50,
        phone_number="+13125550100",
        customer_reference="acme",
        tag="billing",
        status="port-out-pending",
        source="ported",
    )
    assert dict(route.calls.last.request.url.params) == {
        "filter[phone_number]": "+13125550100",
        "filter[customer_reference]": "acme",
        "filter[tag]": "billing",
        "filter[status]": "port-out-pending",
        "filter[source]": "ported",
        "page[number]": "2",
        "page[size]": "50",
    }
    assert page.meta.total_pages == 3
    assert page.data == [
        PhoneNumberData(
            id="1293384261075731499",
            record_type="phone_number",
            phone_number="+13125550100",
            status="active",
            tags=["billing", "hq"],
            customer_reference="acme",
            source="ported",
            connection_id="1498244353",
            purchased_at=datetime(2024, 3, 1, 12, tzinfo=UTC),
            created_at=datetime(2024, 3, 1, 12, tzinfo=UTC),
            updated_at=datetime(2025, 1, 2, 8, 30, 0, 123000, tzinfo=UTC),
        )
    ]


def test_no_filter_sends_only_paging_and_an_unknown_filter_is_refused(telnyx_client, telnyx_api):
    route = telnyx_api.get("/phone_numbers").mock(
        return_value=httpx.Response(200, json=page_json([], page=1, total_pages=0))
    )
    assert list(telnyx_client.list_phone_numbers()) == []
    assert dict(route.calls.last.request.url.params) == {"page[number]": "1", "page[size]": "250"}
    with pytest.raises(TypeError, match="unknown filter"):
        telnyx_client.list_phone_numbers_page(country="US")  # type: ignore[call-arg]


def test_list_walks_every_page(telnyx_client, telnyx_api):
    pages = {
        "1": page_json(
            [number_json("+13125550100"), number_json("+13125550101")],
            page=1,
            total_pages=2,
            size=2,
        ),
        "2": page_json([number_json("+13125550102")], page=2, total_pages=2, size=2),
    }
    route = telnyx_api.get("/phone_numbers").mock(
        side_effect=lambda request: httpx.Response(
            200, json=pages[request.url.params["page[number]"]]
        )
    )
    numbers = [n.phone_number for n in telnyx_client.list_phone_numbers(page_size=2, tag="hq")]
    assert numbers == ["+13125550100", "+13125550101", "+13125550102"]
    assert [c.request.url.params["filter[tag]"] for c in route.calls] == ["hq", "hq"]


def test_odd_records_parse_forgivingly(telnyx_client, telnyx_api):
    odd = [
        {
            "phone_number": "+13125550100",
            "tags": None,
            "customer_reference": None,
            "purchased_at": "yesterday",
            "status": "some-new-status",
        },
        "not an object",
    ]
    telnyx_api.get("/phone_numbers").mock(
        return_value=httpx.Response(200, json={"data": odd, "meta": None})
    )
    (record,) = telnyx_client.list_phone_numbers_page().data
    assert (record.tags, record.customer_reference, record.purchased_at, record.status) == (
        [],
        None,
        None,
        "some-new-status",
    )


@pytest.mark.parametrize(("status", "error"), [(401, AuthenticationError), (404, NotFoundError)])
def test_401_and_404_raise_the_client_errors_at_once(telnyx_client, telnyx_api, status, error):
    route = telnyx_api.get("/phone_numbers").mock(
        return_value=httpx.Response(
            status, json={"errors": [{"code": "10009", "title": "Authentication failed"}]}
        )
    )
    with pytest.raises(error):
        telnyx_client.list_phone_numbers_page(phone_number="+13125550100")
    assert route.call_count == 1  # not retried


def test_a_rate_limit_is_retried_then_raised(telnyx_client, telnyx_api, telnyx_sleeps):
    route = telnyx_api.get("/phone_numbers").mock(
        return_value=httpx.Response(429, headers={"Retry-After": "1"}, json={"errors": []})
    )
    with pytest.raises(RateLimitError):
        telnyx_client.list_phone_numbers_page()
    assert route.call_count == 4 and len(telnyx_sleeps) == 3
