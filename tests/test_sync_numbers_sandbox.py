"""The number inventory synced from the sandbox's `/v2/phone_numbers`: full and incremental,
on a healthy and on a flaky Telnyx, the cache ending equal to the API."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from portouts import sync
from portouts.models import PhoneNumber, SyncRun
from portouts.telnyx import TelnyxClient

pytestmark = pytest.mark.django_db

API_KEY = "KEYsandbox_test_key"


@pytest.fixture(autouse=True)
def _no_retry_waits(monkeypatch):
    monkeypatch.setattr("portouts.telnyx.retry.sleep", lambda seconds: None)


def sandbox_inventory(sandbox) -> dict[str, tuple]:
    with sandbox.state.lock:
        return {
            n: (
                p.status,
                p.customer_reference or "",
                list(p.tags),
                p.source,
                datetime.fromtimestamp(p.purchased_ts, UTC).replace(microsecond=0),
            )
            for n, p in sandbox.state.inventory.numbers.items()
        }


def assert_cache_equals_inventory(sandbox) -> None:
    cached = {
        p.number: (
            p.status,
            p.customer_reference,
            p.tags,
            p.source,
            p.purchased_at.replace(microsecond=0) if p.purchased_at else None,
        )
        for p in PhoneNumber.objects.present()
    }
    assert cached == sandbox_inventory(sandbox)


def pending_numbers(sandbox, count: int) -> list[tuple[str, list[str]]]:
    with sandbox.state.lock:
        pending = [p for p in sandbox.state.portouts.values() if p.status == "pending"]
        return [(p.id, list(p.phone_numbers)) for p in pending[:count]]


def test_a_full_then_an_incremental_sync_keep_the_inventory_equal(sandbox_settings):
    sandbox = sandbox_settings
    with TelnyxClient(API_KEY, base_url=sandbox.base_url) as client:
        full = sync.run_full_sync(client=client)
        assert full.counts["numbers"] == len(sandbox_inventory(sandbox)) > 0
        assert_cache_equals_inventory(sandbox)

        # Telnyx authorizes two port-outs: their numbers' status follows
        changed = pending_numbers(sandbox, 2)
        for pid, _ in changed:
            sandbox.state.change_status(pid, "authorized")
        incremental = sync.run_incremental_sync(client=client)

    assert incremental.kind == SyncRun.Kind.INCREMENTAL
    assert incremental.counts["inventory_requests"] == sum(len(n) for _, n in changed)
    assert_cache_equals_inventory(sandbox)


def test_the_inventory_ends_equal_through_injected_faults(sandbox_settings):
    sandbox = sandbox_settings
    sandbox.faults.configure(
        rate_limit_ratio=0.08, error_ratio=0.10, drop_ratio=0.08, retry_after=0, seed=21
    )
    client = TelnyxClient(API_KEY, base_url=sandbox.base_url, max_retries=6)
    try:
        full = sync.run_full_sync(client=client)
        sandbox.faults.reset()
        changed = pending_numbers(sandbox, 3)
        for pid, _ in changed:
            sandbox.state.change_status(pid, "authorized")
        sandbox.faults.configure(
            rate_limit_ratio=0.08, error_ratio=0.10, drop_ratio=0.08, retry_after=0, seed=22
        )
        incremental = sync.run_incremental_sync(client=client)
        faults = sum(sandbox.faults.counts.values())
        sandbox.faults.reset()
        # whatever failed through every retry is read by the next run
        last = sync.run_incremental_sync(client=client)
    finally:
        client.close()
        sandbox.faults.reset()

    assert faults > 0
    for run in (full, incremental, last):
        assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert "inventory_failed" not in full.counts
    assert last.still_to_retry == 0
    assert_cache_equals_inventory(sandbox)
