"""The number inventory synced from the sandbox's `/v2/phone_numbers`: full and incremental,
on a healthy and on a flaky Telnyx (the sandbox's fault injection, on the inventory's path
and on every other one), numbers added, removed and changed between runs, and the cache
ending equal, field by field, to what the API lists."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from datetime import datetime

import httpx
import pytest

from portouts import sync
from portouts.models import PhoneNumber, PortOut, SyncRun
from portouts.sync.numbers import VANISH_TRUST_FRACTION
from portouts.telnyx import TelnyxClient
from telnyx_sandbox.numbers import PhoneNumber as SandboxNumber

pytestmark = pytest.mark.django_db

API_KEY = "KEYsandbox_test_key"
INVENTORY_PATH = "/v2/phone_numbers"
#: random faults on every path (the inventory's included), rolled with a seed
FLAKY = {"rate_limit_ratio": 0.06, "error_ratio": 0.08, "drop_ratio": 0.06, "retry_after": 0}
#: scripted faults for successive inventory requests (None: served normally); "slow"
#: outlasts the client's timeout
INVENTORY_SCRIPT = ("429", "drop", None, "500", "slow", None, "503", "drop", "429")


@pytest.fixture(autouse=True)
def _no_retry_waits(monkeypatch):
    monkeypatch.setattr("portouts.telnyx.retry.sleep", lambda seconds: None)


class InventoryFaults(httpx.BaseTransport):
    """Real HTTP to the sandbox. Before each inventory request it queues the next fault of
    `script`; before every attempt at a listing page in `failing_pages` or a lookup of a
    number in `failing_numbers` it queues a 500, so that request fails through every retry.

    Inventory requests go one at a time, so the fault queued for one is the one it gets.
    """

    def __init__(
        self,
        sandbox,
        script: Iterable[str | None] = (),
        *,
        failing_pages: Iterable[int] = (),
        failing_numbers: Iterable[str] = (),
    ) -> None:
        self.sandbox = sandbox
        self.script = list(script)
        self.failing_pages = {str(n) for n in failing_pages}
        self.failing_numbers = set(failing_numbers)
        self.inner = httpx.HTTPTransport()
        self.lock = threading.Lock()
        self.faulted = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if not request.url.path.startswith(INVENTORY_PATH):
            return self.inner.handle_request(request)
        params = request.url.params
        with self.lock:
            if (
                params.get("page[number]") in self.failing_pages
                or params.get("filter[phone_number]") in self.failing_numbers
            ):
                fault: str | None = "500"
            else:
                fault = self.script.pop(0) if self.script else None
            if fault is not None:
                self.sandbox.faults.queue(fault)
                self.faulted += 1
            return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


def flaky_client(sandbox, transport: InventoryFaults) -> TelnyxClient:
    return TelnyxClient(
        API_KEY,
        base_url=sandbox.base_url,
        page_size=50,
        timeout=1.0,
        max_retries=6,
        transport=transport,
    )


def _when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def api_inventory(sandbox) -> dict[str, tuple]:
    """Every number the API lists, read with plain HTTP and no faults, as the fields the
    cache keeps."""
    found: dict[str, tuple] = {}
    headers = {"Authorization": f"Bearer {API_KEY}"}
    with httpx.Client(base_url=sandbox.base_url, headers=headers) as http:
        page, pages = 1, 1
        while page <= pages:
            response = http.get("/phone_numbers", params={"page[number]": page, "page[size]": 250})
            response.raise_for_status()
            body = response.json()
            for item in body["data"]:
                found[item["phone_number"]] = (
                    item["id"],
                    item["status"],
                    item["customer_reference"] or "",
                    item["tags"],
                    item["source"],
                    item["connection_id"] or "",
                    _when(item["purchased_at"]),
                    _when(item["created_at"]),
                    _when(item["updated_at"]),
                )
            pages = body["meta"]["total_pages"]
            page += 1
    return found


def cached_inventory() -> dict[str, tuple]:
    return {
        p.number: (
            p.telnyx_id,
            p.status,
            p.customer_reference,
            p.tags,
            p.source,
            p.connection_id,
            p.purchased_at,
            p.created_at,
            p.updated_at,
        )
        for p in PhoneNumber.objects.present()
    }


def assert_cache_equals_api(sandbox) -> dict[str, tuple]:
    """The cache's present numbers are exactly the API's, every cached field equal."""
    sandbox.faults.reset()
    listed = api_inventory(sandbox)
    cached = cached_inventory()
    assert set(cached) == set(listed)
    differing = {n: (cached[n], listed[n]) for n in listed if cached[n] != listed[n]}
    assert differing == {}
    return listed


# -- changing the sandbox's inventory between runs (it has no API for this) ----------------


def add_number(sandbox, e164: str, *, reference: str | None, tags: tuple[str, ...]) -> None:
    inventory = sandbox.state.inventory
    now = time.time()
    with sandbox.state.lock:
        inventory.add(
            SandboxNumber(
                id=inventory.next_id(),
                phone_number=e164,
                customer_reference=reference,
                tags=tags,
                source="purchased",
                purchased_ts=now - 3 * 86400,
                updated_ts=now,
                connection_id="1684641123236054244",
            )
        )


def remove_number(sandbox, e164: str) -> None:
    """Drop a number from the account."""
    with sandbox.state.lock:
        sandbox.state.inventory.remove(e164)


def change_number(sandbox, e164: str, **fields) -> None:
    inventory = sandbox.state.inventory
    with sandbox.state.lock:
        number = inventory.numbers[e164]
        for name, value in fields.items():
            setattr(number, name, value)
        number.updated_ts = time.time()
        number.json_cache = None
        inventory.finish_bulk()


def numbers_named_by_no_portout(sandbox, count: int) -> list[str]:
    with sandbox.state.lock:
        named = {n for p in sandbox.state.portouts.values() for n in p.phone_numbers}
        return sorted(n for n in sandbox.state.inventory.numbers if n not in named)[:count]


def pending_numbers(sandbox, count: int) -> list[tuple[str, list[str]]]:
    with sandbox.state.lock:
        pending = [p for p in sandbox.state.portouts.values() if p.status == "pending"]
        return [(p.id, list(p.phone_numbers)) for p in pending[:count]]


def assert_succeeded(*runs: SyncRun) -> None:
    for run in runs:
        assert run.status == SyncRun.Status.SUCCEEDED, run.error


# -- the tests -------------------------------------------------------------------------


def test_a_full_then_an_incremental_sync_keep_the_inventory_equal(sandbox_settings):
    sandbox = sandbox_settings
    with TelnyxClient(API_KEY, base_url=sandbox.base_url) as client:
        full = sync.run_full_sync(client=client)
        assert full.counts["numbers"] == len(api_inventory(sandbox)) > 0
        assert_cache_equals_api(sandbox)

        # Telnyx authorizes two port-outs: their numbers' status follows
        changed = pending_numbers(sandbox, 2)
        for pid, _ in changed:
            sandbox.state.change_status(pid, "authorized")
        incremental = sync.run_incremental_sync(client=client)

    assert incremental.kind == SyncRun.Kind.INCREMENTAL
    assert incremental.counts["inventory_requests"] == sum(len(n) for _, n in changed)
    assert_cache_equals_api(sandbox)


def test_full_syncs_through_faults_keep_the_inventory_equal_as_numbers_come_and_go(
    sandbox_settings,
):
    """Faults on the inventory's path and on every other one; between the two runs the
    account gains numbers, loses some and sees others change."""
    sandbox = sandbox_settings
    sandbox.faults.configure(slow_seconds=1.5, **FLAKY, seed=31)
    transport = InventoryFaults(sandbox, INVENTORY_SCRIPT)
    with flaky_client(sandbox, transport) as client:
        first = sync.run_full_sync(client=client)
        assert_cache_equals_api(sandbox)

        leaving = numbers_named_by_no_portout(sandbox, 4)
        add_number(sandbox, "+13125557001", reference=None, tags=())
        add_number(sandbox, "+13125557002", reference="churned-co", tags=("new", "vip"))
        for number in leaving[:2]:
            remove_number(sandbox, number)
        change_number(sandbox, leaving[2], customer_reference="moved-co", tags=("moved",))
        change_number(sandbox, leaving[3], connection_id="99", status="port-out-pending")

        sandbox.faults.configure(slow_seconds=1.5, **FLAKY, seed=32)
        transport.script = list(INVENTORY_SCRIPT)
        second = sync.run_full_sync(client=client)
        faults = sum(sandbox.faults.counts.values())
        listed = assert_cache_equals_api(sandbox)
    sandbox.wait_idle(timeout=5)

    assert_succeeded(first, second)
    assert faults > transport.faulted > 0
    for run in (first, second):
        assert "inventory_failed" not in run.counts
    assert second.counts["numbers_vanished"] == 2
    assert {"+13125557001", "+13125557002"} <= set(listed)
    gone = PhoneNumber.objects.filter(number__in=leaving[:2])
    assert [p.vanished_at is not None for p in gone] == [True, True]


def test_an_inventory_page_failing_through_every_retry_is_read_again_by_the_next_full_sync(
    sandbox_settings,
):
    """The run still succeeds (the port-outs are reconciled); the pages read are stored
    whole, nothing is flagged vanished from the incomplete listing, and the next full
    sync makes the cache equal again."""
    sandbox = sandbox_settings
    with flaky_client(sandbox, InventoryFaults(sandbox)) as client:
        sync.run_full_sync(client=client)
    before = cached_inventory()
    leaving = numbers_named_by_no_portout(sandbox, 1)
    remove_number(sandbox, leaving[0])
    add_number(sandbox, "+13125557003", reference="late-co", tags=("late",))

    transport = InventoryFaults(sandbox, INVENTORY_SCRIPT, failing_pages=[2])
    with flaky_client(sandbox, transport) as client:
        broken = sync.run_full_sync(client=client)
        assert_succeeded(broken)
        assert broken.counts["inventory_failed"] == 1
        assert "numbers_vanished" not in broken.counts
        listed = api_inventory(sandbox)
        cached = cached_inventory()
        # every cached number is either as the API lists it or as it was before the run
        assert all(row in (listed.get(n), before.get(n)) for n, row in cached.items())
        assert leaving[0] in cached  # an incomplete listing flags nothing

        transport.failing_pages.clear()
        transport.script = list(INVENTORY_SCRIPT)
        healed = sync.run_full_sync(client=client)
    sandbox.wait_idle(timeout=5)

    assert_succeeded(healed)
    assert healed.counts["numbers_vanished"] == 1
    assert_cache_equals_api(sandbox)


def test_many_numbers_missing_are_looked_up_through_faults_before_they_are_flagged(
    sandbox_settings,
):
    """More missing numbers than a listing is trusted with: each is looked up by number
    first; one whose lookup fails through every retry stays present until a later full
    sync confirms it gone."""
    sandbox = sandbox_settings
    with flaky_client(sandbox, InventoryFaults(sandbox)) as client:
        sync.run_full_sync(client=client)
    held = len(cached_inventory())
    leaving = numbers_named_by_no_portout(sandbox, int(held * VANISH_TRUST_FRACTION) + 3)
    for number in leaving:
        remove_number(sandbox, number)
    unlucky = leaving[0]

    sandbox.faults.configure(**FLAKY, seed=51)
    transport = InventoryFaults(sandbox, INVENTORY_SCRIPT, failing_numbers=[unlucky])
    with flaky_client(sandbox, transport) as client:
        first = sync.run_full_sync(client=client)
        assert first.counts["numbers_unchecked"] == 1
        assert first.counts["numbers_vanished"] == len(leaving) - 1
        assert unlucky in cached_inventory()

        transport.failing_numbers.clear()
        second = sync.run_full_sync(client=client)
        assert second.counts["numbers_vanished"] == 1
        assert_cache_equals_api(sandbox)
    sandbox.wait_idle(timeout=5)
    assert_succeeded(first, second)


def test_incremental_syncs_through_faults_follow_the_numbers_of_changed_port_outs(
    sandbox_settings,
):
    """New port-outs bring numbers the account did not have, status changes move their
    numbers' status, a number dropped from the account is flagged when its port-out is
    read; a number whose lookup fails through every retry leaves its port-out to the next
    run, which makes the cache equal."""
    sandbox = sandbox_settings
    with flaky_client(sandbox, InventoryFaults(sandbox)) as client:
        sync.run_full_sync(client=client)
    (authorized, authorized_numbers), (dropped, dropped_numbers), (changed, changed_numbers) = (
        pending_numbers(sandbox, 3)
    )
    created = sandbox.state.create_portout(phone_numbers=["+13125557101", "+13125557102"])
    sandbox.state.change_status(authorized, "authorized")
    remove_number(sandbox, dropped_numbers[0])
    sandbox.state.change_status(dropped, "authorized")
    change_number(sandbox, changed_numbers[0], customer_reference="renamed-co", tags=("x",))
    sandbox.state.change_status(changed, "authorized")
    unlucky = authorized_numbers[0]

    sandbox.faults.configure(slow_seconds=1.5, **FLAKY, seed=41)
    transport = InventoryFaults(sandbox, INVENTORY_SCRIPT, failing_numbers=[unlucky])
    with flaky_client(sandbox, transport) as client:
        first = sync.run_incremental_sync(client=client)
        assert_succeeded(first)
        assert first.still_to_retry >= 1
        assert PortOut.objects.get(id=authorized).details_stale

        sandbox.faults.configure(**FLAKY, seed=42)
        transport.failing_numbers.clear()
        transport.script = list(INVENTORY_SCRIPT)
        second = sync.run_incremental_sync(client=client)
        faults = sum(sandbox.faults.counts.values())
        listed = assert_cache_equals_api(sandbox)
        third = sync.run_incremental_sync(client=client)  # nothing is owed any more
    sandbox.wait_idle(timeout=5)

    assert_succeeded(second, third)
    assert faults > transport.faulted > 0
    assert second.still_to_retry == 0 and third.still_to_retry == 0
    assert not PortOut.objects.get(id=authorized).details_stale
    assert {"+13125557101", "+13125557102"} <= set(listed)
    assert created.id in set(PortOut.objects.values_list("id", flat=True))
    assert PhoneNumber.objects.get(number=dropped_numbers[0]).vanished_at is not None
    assert listed[changed_numbers[0]][2:4] == ("renamed-co", ["x"])
    assert_cache_equals_api(sandbox)
