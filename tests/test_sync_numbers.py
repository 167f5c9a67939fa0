"""The number inventory in the sync (full and incremental), against a respx-served Telnyx.

Until the sandbox serves `/v2/phone_numbers`, a small fake account here answers the calls
the sync makes, by path, with Telnyx's shapes; every test ends by comparing the cache with it.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from django.urls import reverse
from django.utils import timezone

from portouts import sync
from portouts.models import PhoneNumber, PortOut, SyncRun
from portouts.telnyx import TelnyxClient
from tests.fixtures_client import TEST_API_KEY, TEST_BASE_URL, page_json, portout_json
from tests.test_client_numbers import number_json

pytestmark = pytest.mark.django_db

PID = "po-1"
NUMBERS = ["+13125550100", "+13125550101"]


@pytest.fixture(autouse=True)
def _no_retry_waits(monkeypatch):
    monkeypatch.setattr("portouts.telnyx.retry.sleep", lambda seconds: None)


class FakeAccount:
    """Port-outs and an inventory, served page by page; `failing` paths answer 500."""

    def __init__(self, router, *, page_size: int = 2) -> None:
        self.portouts = {PID: portout_json(id=PID, phone_numbers=NUMBERS, status="pending")}
        extra = ["+13125550102", "+13125550103", "+13125550104"]
        self.numbers = {n: number_json(n, customer_reference="acme") for n in NUMBERS + extra}
        self.page_size = page_size
        self.failing_pages: set[int] = set()
        self.failing_lookups: set[str] = set()
        self.lookups: list[str] = []
        router.route(host="api.telnyx.test").mock(side_effect=self.answer)

    def answer(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix("/v2")
        params = request.url.params
        if path == "/phone_numbers":
            return self._numbers(params)
        if path in ("/portouts", "/portouts/events"):
            items = list(self.portouts.values()) if path == "/portouts" else []
            return httpx.Response(200, json=page_json(items, page=1, total_pages=1))
        if path.endswith(("/comments", "/supporting_documents")) or "/rejections/" in path:
            return httpx.Response(200, json={"data": []})
        pid = path.rsplit("/", 1)[-1]
        if pid in self.portouts:
            return httpx.Response(200, json={"data": self.portouts[pid]})
        return httpx.Response(404, json={"errors": [{"code": "10005", "title": "Not found"}]})

    def _numbers(self, params: Any) -> httpx.Response:
        wanted = params.get("filter[phone_number]")
        if wanted is not None:
            self.lookups.append(wanted)
            if wanted in self.failing_lookups:
                return httpx.Response(500, json={"errors": [{"title": "boom"}]})
            items = [self.numbers[wanted]] if wanted in self.numbers else []
            return httpx.Response(200, json=page_json(items, page=1, total_pages=1))
        number = int(params["page[number]"])
        if number in self.failing_pages:
            return httpx.Response(500, json={"errors": [{"title": "boom"}]})
        ordered = sorted(self.numbers)
        total_pages = max(1, -(-len(ordered) // self.page_size))
        chunk = ordered[(number - 1) * self.page_size : number * self.page_size]
        body = page_json([self.numbers[n] for n in chunk], page=number, total_pages=total_pages)
        body["meta"]["total_results"] = len(ordered)
        return httpx.Response(200, json=body)


@pytest.fixture
def account(telnyx_api):
    return FakeAccount(telnyx_api)


@pytest.fixture
def api():
    with TelnyxClient(TEST_API_KEY, base_url=TEST_BASE_URL, max_retries=1) as client:
        yield client


def assert_cache_equals(account: FakeAccount) -> None:
    cached = {
        p.number: (p.status, p.customer_reference, p.tags, p.source)
        for p in PhoneNumber.objects.present()
    }
    expected = {
        n: (d["status"], d["customer_reference"] or "", d["tags"], d["source"])
        for n, d in account.numbers.items()
    }
    assert cached == expected


def test_the_full_sync_stores_the_whole_inventory_page_by_page(account, api):
    run = sync.run_full_sync(client=api)
    assert run.status == SyncRun.Status.SUCCEEDED
    assert run.counts["numbers"] == 5 and run.counts["inventory_requests"] == 3  # 3 pages
    assert_cache_equals(account)
    number = PhoneNumber.objects.get(number=NUMBERS[0])
    assert number.purchased_at is not None and number.vanished_at is None


def test_a_number_gone_from_the_account_is_flagged_only_once_confirmed(account, api):
    sync.run_full_sync(client=api)
    gone = account.numbers.pop("+13125550104")
    run = sync.run_full_sync(client=api)
    # 1 of 5 missing is over the 2 % a listing is trusted with: looked up, then flagged
    assert account.lookups == [gone["phone_number"]]
    assert run.counts["numbers_vanished"] == 1
    assert PhoneNumber.objects.get(number="+13125550104").vanished_at is not None
    assert_cache_equals(account)

    account.numbers["+13125550104"] = gone  # listed again: present again
    sync.run_full_sync(client=api)
    assert PhoneNumber.objects.get(number="+13125550104").vanished_at is None


def test_a_number_the_lookup_still_finds_is_not_flagged(account, api, monkeypatch):
    sync.run_full_sync(client=api)
    # the listing shifts and misses a number that is still on the account
    hidden = "+13125550103"
    real = account._numbers

    def shifted(params):
        response = real(params)
        if params.get("filter[phone_number]") is None:
            body = response.json()
            body["data"] = [d for d in body["data"] if d["phone_number"] != hidden]
            return httpx.Response(200, json=body)
        return response

    monkeypatch.setattr(account, "_numbers", shifted)
    run = sync.run_full_sync(client=api)
    assert account.lookups == [hidden]
    assert run.counts.get("numbers_vanished", 0) == 0
    assert_cache_equals(account)


def test_an_inventory_page_failing_mid_way_keeps_whole_pages_and_flags_nothing(account, api):
    sync.run_full_sync(client=api)
    account.numbers["+13125550102"]["tags"] = ["moved"]
    account.numbers["+13125550100"]["tags"] = ["changed"]
    del account.numbers["+13125550104"]
    account.failing_pages = {2}
    run = sync.run_full_sync(client=api)

    # the port-outs are reconciled and the run succeeds, saying the inventory failed
    assert run.status == SyncRun.Status.SUCCEEDED
    assert run.counts["inventory_failed"] == 1
    assert PortOut.objects.get(id=PID).details_stale is False
    # page 1 (two numbers) was stored whole; nothing was flagged vanished from a short read
    assert PhoneNumber.objects.get(number="+13125550100").tags == ["changed"]
    assert PhoneNumber.objects.get(number="+13125550104").vanished_at is None
    assert account.lookups == []

    account.failing_pages = set()
    sync.run_full_sync(client=api)
    assert_cache_equals(account)


def test_the_incremental_sync_refreshes_the_numbers_of_the_portouts_it_reads(account, api):
    sync.run_full_sync(client=api)
    account.numbers[NUMBERS[0]].update(status="port-out-pending", tags=["leaving"])
    del account.numbers[NUMBERS[1]]
    account.numbers["+13125550102"]["tags"] = ["not read by an incremental run"]
    account.portouts[PID]["updated_at"] = "2026-01-01T00:00:00Z"

    run = sync.run_incremental_sync(client=api)
    assert run.kind == SyncRun.Kind.INCREMENTAL
    assert sorted(account.lookups) == NUMBERS
    first = PhoneNumber.objects.get(number=NUMBERS[0])
    assert (first.status, first.tags) == ("port-out-pending", ["leaving"])
    assert PhoneNumber.objects.get(number=NUMBERS[1]).vanished_at is not None
    assert PhoneNumber.objects.get(number="+13125550102").tags == ["billing", "hq"]
    assert (run.counts["numbers"], run.counts["numbers_vanished"]) == (1, 1)


def test_a_number_read_failing_leaves_its_portout_still_to_retry(account, api):
    sync.run_full_sync(client=api)
    account.portouts[PID]["updated_at"] = "2026-01-01T00:00:00Z"
    account.numbers[NUMBERS[0]]["tags"] = ["new"]
    account.failing_lookups = {NUMBERS[1]}

    run = sync.run_incremental_sync(client=api)
    assert run.status == SyncRun.Status.SUCCEEDED
    assert run.still_to_retry == 1
    assert PortOut.objects.get(id=PID).details_stale is True
    assert PhoneNumber.objects.get(number=NUMBERS[0]).tags == ["new"]  # what was read is kept

    account.failing_lookups = set()
    account.lookups.clear()
    again = sync.run_incremental_sync(client=api)
    assert again.still_to_retry == 0
    assert sorted(account.lookups) == NUMBERS
    assert PortOut.objects.get(id=PID).details_stale is False
    assert_cache_equals(account)


def test_no_number_is_read_before_a_full_sync_built_the_inventory(account, api):
    account.failing_pages = {1}
    sync.run_full_sync(client=api)
    assert not PhoneNumber.objects.exists()
    account.portouts[PID]["updated_at"] = "2026-01-01T00:00:00Z"
    sync.run_incremental_sync(client=api)
    assert account.lookups == []


def test_the_sync_page_says_when_the_inventory_could_not_be_read(viewer_client):
    run = SyncRun.objects.create(
        kind="full", status="succeeded", counts={"inventory_failed": 1}, finished_at=timezone.now()
    )
    page = viewer_client.get(reverse("portouts:sync_progress", args=[run.pk]))
    assert b"The number inventory could not be read" in page.content
    run.counts = {}
    run.save()
    page = viewer_client.get(reverse("portouts:sync_progress", args=[run.pk]))
    assert b"The number inventory" not in page.content
