"""The sync service against the in-process Telnyx sandbox (and respx for odd API data)."""

from __future__ import annotations

import io
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import respx
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from portouts import sync, telnyx, timeline
from portouts.metrics import facts
from portouts.models import (
    Comment,
    PhoneNumber,
    PortOut,
    PortOutEvent,
    PortOutNumber,
    RejectionCode,
    SupportingDocument,
    SyncRun,
)
from portouts.telnyx import TelnyxClient
from tests.fixtures_client import TEST_API_KEY, TEST_BASE_URL, portout_json

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Users are created per test; the production hasher is slow on purpose."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _no_retry_waits(monkeypatch):
    monkeypatch.setattr("portouts.telnyx.retry.sleep", lambda seconds: None)


@pytest.fixture
def client(sandbox_settings):
    with TelnyxClient("KEYsandbox_test_key", base_url=sandbox_settings.base_url) as c:
        yield c


def ts(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat(timespec="milliseconds")


def iso_ts(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds")


def assert_cache_equals_sandbox(sandbox) -> None:
    """Every port-out, number, comment, document and pending rejection code, and no more."""
    state = sandbox.state
    with state.lock:
        expected = dict(state.portouts)
        comments = {pid: {c.id for c in cs} for pid, cs in state.comments.items()}
        documents = {pid: {d.id for d in ds} for pid, ds in state.supporting_documents.items()}
        snapshot = {
            pid: (
                po.status,
                list(po.phone_numbers),
                iso_ts(po.foc_ts),
                iso_ts(po.updated_ts),
                po.support_key,
                po.reason or "",
                tuple(sorted(po.rejection_codes)),
            )
            for pid, po in expected.items()
        }
    rows = {p.id: p for p in PortOut.objects.present()}
    assert set(rows) == set(snapshot)
    for pid, (status, numbers, foc, updated, key, reason, codes) in snapshot.items():
        row = rows[pid]
        assert (row.status, row.phone_numbers, row.support_key, row.reason) == (
            status,
            numbers,
            key,
            reason,
        ), pid
        assert ts(row.foc_date) == foc, pid
        assert ts(row.updated_at) == updated, pid
        assert row.first_number == numbers[0]
        assert row.number_count == len(numbers)
        if status == "pending":
            stored = set(
                RejectionCode.objects.filter(portout_id=pid).values_list("code", flat=True)
            )
            assert stored == set(codes), pid
    numbers_db = sorted(
        PortOutNumber.objects.filter(portout__vanished_at__isnull=True).values_list(
            "portout_id", "number"
        )
    )
    assert numbers_db == sorted((pid, n) for pid, s in snapshot.items() for n in s[1])
    comment_rows = list(
        Comment.objects.filter(portout__vanished_at__isnull=True).values_list("portout_id", "id")
    )
    assert len(comment_rows) == len(set(comment_rows))
    assert {pid: ids for pid, ids in comments.items() if ids} == _group(comment_rows)
    doc_rows = list(
        SupportingDocument.objects.filter(portout__vanished_at__isnull=True).values_list(
            "portout_id", "id"
        )
    )
    assert {pid: ids for pid, ids in documents.items() if ids} == _group(doc_rows)


def _group(pairs) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for pid, item in pairs:
        out.setdefault(pid, set()).add(item)
    return out


def full_read_requests(sandbox) -> int:
    """Requests a full sync makes besides its listings: comments and documents of every
    port-out, rejection codes of every pending one."""
    with sandbox.state.lock:
        statuses = [p.status for p in sandbox.state.portouts.values()]
    return 2 * len(statuses) + statuses.count("pending")


def table_writes(ctx: CaptureQueriesContext, *tables: str) -> list[str]:
    return [
        q["sql"]
        for q in ctx.captured_queries
        if q["sql"].split(" ", 1)[0] in {"INSERT", "UPDATE", "DELETE"}
        and any(f'"portouts_{t}"' in q["sql"].split("WHERE")[0] for t in tables)
    ]


def pending_ids(sandbox, n: int) -> list[str]:
    with sandbox.state.lock:
        ids = [p.id for p in sandbox.state.portouts.values() if p.status == "pending"]
    assert len(ids) >= n
    return ids[:n]


# --------------------------------------------------------------------------- full sync


def test_full_sync_leaves_cache_equal_to_sandbox(sandbox, client):
    run = sync.run_full_sync(client=client, triggered_by="test")

    assert run.status == SyncRun.Status.SUCCEEDED
    assert run.kind == SyncRun.Kind.FULL
    assert run.counts["created"] == len(sandbox.state.portouts)
    assert run.progress_done == run.progress_total == len(sandbox.state.portouts)
    assert run.api_requests > len(sandbox.state.portouts)  # comments + documents of each
    assert run.inserted_at_high_water is not None
    assert run.event_high_water is not None
    assert_cache_equals_sandbox(sandbox)
    # country of the first number, via phonenumbers
    assert set(PortOut.objects.values_list("country_code", flat=True)) <= {"US", "CA"}


def test_second_full_sync_reads_everything_again_and_writes_only_what_changed(sandbox, client):
    """Comments and documents change without updated_at moving, so a full sync reads them
    for every port-out; what it holds already is compared, not written again."""
    sync.run_full_sync(client=client)
    with CaptureQueriesContext(connection) as ctx:
        run = sync.run_full_sync(client=client)

    assert run.status == SyncRun.Status.SUCCEEDED
    assert run.counts.get("unchanged") == len(sandbox.state.portouts)
    assert "created" not in run.counts and "updated" not in run.counts
    # the events of the window (one page) + the one page + the reads of every port-out
    assert run.api_requests == 2 + full_read_requests(sandbox) + run.counts["inventory_requests"]
    assert table_writes(ctx, "comment", "supportingdocument") == []
    assert_cache_equals_sandbox(sandbox)


def test_full_sync_refetches_details_of_changed_portouts_only(sandbox, client):
    sync.run_full_sync(client=client)
    target = pending_ids(sandbox, 1)[0]
    sandbox.state.change_status(target, "canceled")

    run = sync.run_full_sync(client=client)

    assert run.counts["updated"] == 1
    assert run.api_requests == 2 + full_read_requests(sandbox) + run.counts["inventory_requests"]
    assert PortOut.objects.get(id=target).status == "canceled"


def test_full_sync_flags_vanished_portouts_and_keeps_them(sandbox, client):
    sync.run_full_sync(client=client)
    gone = sync.store_portout(
        telnyx.PortoutData.from_api(portout_json(id="gone-1", status="pending"))
    )
    PortOut.objects.filter(id=gone.id).update(synced_at=timezone.now() - timedelta(days=1))

    run = sync.run_full_sync(client=client)

    gone.refresh_from_db()
    assert gone.vanished_at is not None
    assert run.counts["vanished"] == 1
    assert not PortOut.objects.present().filter(id="gone-1").exists()
    assert_cache_equals_sandbox(sandbox)


def test_portout_listed_again_is_no_longer_vanished(sandbox, client):
    sync.run_full_sync(client=client)
    pid = next(iter(sandbox.state.portouts))
    PortOut.objects.filter(id=pid).update(vanished_at=timezone.now())

    sync.run_full_sync(client=client)

    assert PortOut.objects.get(id=pid).vanished_at is None


def short_listing(monkeypatch, client, keep: int = 0) -> None:
    """Telnyx answers the port-out listing with only `keep` rows of each page while its
    meta still announces every port-out (a short or shifted listing)."""
    real = client.list_portouts_page

    def listing(**kwargs):
        page = real(**kwargs)
        return telnyx.Page(data=page.data[:keep], meta=page.meta)

    monkeypatch.setattr(client, "list_portouts_page", listing)


def cached_gone(n: int, *, status: str = "pending") -> list[str]:
    """Port-outs in the cache (stored a day ago) that Telnyx answers 404 for."""
    ids = [f"gone-{i}" for i in range(n)]
    sync.store_portouts(
        telnyx.PortoutData.from_api(portout_json(id=pid, status=status)) for pid in ids
    )
    PortOut.objects.filter(id__in=ids).update(synced_at=timezone.now() - timedelta(days=1))
    return ids


def test_an_empty_listing_flags_nothing_that_telnyx_still_has(sandbox, client, monkeypatch):
    sync.run_full_sync(client=client)
    PortOut.objects.update(synced_at=timezone.now() - timedelta(days=1))
    gone = cached_gone(3)
    short_listing(monkeypatch, client, keep=0)

    run = sync.run_full_sync(client=client)

    assert run.status == SyncRun.Status.SUCCEEDED
    total = len(sandbox.state.portouts) + len(gone)
    assert run.counts["vanish_checked"] == total
    assert "vanish_unchecked" not in run.counts
    assert run.counts["vanished"] == len(gone)
    vanished = set(PortOut.objects.filter(vanished_at__isnull=False).values_list("id", flat=True))
    assert vanished == set(gone)
    assert PortOut.objects.pending().count() == sum(
        1 for p in sandbox.state.portouts.values() if p.status == "pending"
    )


def test_a_listing_shorter_than_announced_is_checked_by_id(sandbox, client, monkeypatch):
    sync.run_full_sync(client=client)
    PortOut.objects.update(synced_at=timezone.now() - timedelta(days=1))
    short_listing(monkeypatch, client, keep=len(sandbox.state.portouts) - 1)  # one row shifted

    run = sync.run_full_sync(client=client)

    assert run.counts["vanish_checked"] == 1
    assert "vanished" not in run.counts
    assert not PortOut.objects.filter(vanished_at__isnull=False).exists()


def test_checks_by_id_are_capped_per_run_pending_first(sandbox, client, monkeypatch, caplog):
    sync.run_full_sync(client=client)
    PortOut.objects.update(synced_at=timezone.now() - timedelta(days=1))
    cached_gone(4, status="canceled")
    sync.store_portouts([telnyx.PortoutData.from_api(portout_json(id="gone-p", status="pending"))])
    PortOut.objects.filter(id="gone-p").update(synced_at=timezone.now() - timedelta(days=1))
    short_listing(monkeypatch, client, keep=0)
    limit = PortOut.objects.filter(status="pending").count()  # every pending one, no more
    monkeypatch.setattr("portouts.sync.full.VANISH_CHECK_LIMIT", limit)
    total = PortOut.objects.count()

    with caplog.at_level(logging.WARNING, logger="portouts.sync"):
        run = sync.run_full_sync(client=client)

    assert run.counts["vanish_checked"] == limit
    assert run.counts["vanish_unchecked"] == total - limit
    assert "left for the next run" in caplog.text
    # The pending ones are checked first: the pending gone one is flagged; the canceled
    # gone ones wait for the next run.
    flagged = set(PortOut.objects.filter(vanished_at__isnull=False).values_list("id", flat=True))
    assert flagged == {"gone-p"}


def test_a_complete_listing_flags_a_small_share_in_bulk(sandbox, client, monkeypatch):
    sync.run_full_sync(client=client)
    gone = cached_gone(1)
    monkeypatch.setattr("portouts.sync.full.VANISH_VERIFY_LIMIT", 0)

    run = sync.run_full_sync(client=client)

    assert run.counts["vanished"] == 1
    assert "vanish_checked" not in run.counts
    # no read by id
    assert run.api_requests == 2 + full_read_requests(sandbox) + run.counts["inventory_requests"]
    assert PortOut.objects.get(id=gone[0]).vanished_at is not None


def test_a_vanished_pending_portout_stays_in_the_queue_marked(sandbox, client, viewer_client):
    sync.run_full_sync(client=client)
    gone = cached_gone(1)[0]
    sync.run_full_sync(client=client)
    assert PortOut.objects.get(id=gone).vanished_at is not None

    response = viewer_client.get("/")

    sections = response.context["sections"]
    folded = viewer_client.get("/queue/sections/past_window", headers={"HX-Request": "true"})
    html = response.content.decode() + folded.content.decode()
    shown = {row["id"] for s in sections for row in s.rows} | {
        row["id"] for row in folded.context["section"].rows
    }
    assert gone in shown
    pending = PortOut.objects.filter(status="pending").count()
    assert sum(s.state.count for s in sections) == pending
    assert html.count("data-vanished") == 1
    assert "Telnyx no longer lists this request — check it in Telnyx" in html


def test_sync_through_injected_faults_ends_equal_without_duplicates(sandbox, client, settings):
    sandbox.state.add_comment(pending_ids(sandbox, 1)[0], "before faults")
    retrying = TelnyxClient(
        "KEYsandbox_test_key", base_url=sandbox.base_url, max_retries=10, timeout=0.5
    )
    # 20% of requests fail: 429, 500/503, dropped connections and replies slower than the
    # client's timeout.
    sandbox.faults.configure(
        rate_limit_ratio=0.06,
        error_ratio=0.07,
        drop_ratio=0.05,
        slow_ratio=0.02,
        slow_seconds=0.8,
        retry_after=0,
        seed=11,
    )
    try:
        run = sync.run_full_sync(client=retrying)
        for pid in pending_ids(sandbox, 3):
            sandbox.state.add_comment(pid, "during faults")
        sandbox.state.create_portout()
        incremental = sync.run_incremental_sync(client=retrying)
    finally:
        retrying.close()
        faults = dict(sandbox.faults.counts)
        sandbox.faults.reset()

    assert sum(faults.values()) > 20, faults
    assert run.status == incremental.status == SyncRun.Status.SUCCEEDED
    assert_cache_equals_sandbox(sandbox)


def test_failed_run_keeps_high_water_marks_and_the_next_run_catches_up(
    sandbox, client, monkeypatch
):
    sync.run_full_sync(client=client)
    before = sync.last_successful_run()
    target = pending_ids(sandbox, 1)[0]
    sandbox.state.change_status(target, "canceled")
    fragile = TelnyxClient("KEYsandbox_test_key", base_url=sandbox.base_url, max_retries=0)
    real = fragile.list_events_page

    def failing_events_listing(**kwargs):
        sandbox.faults.queue("500")  # the port-out listing works, the events listing fails
        return real(**kwargs)

    monkeypatch.setattr(fragile, "list_events_page", failing_events_listing)
    with fragile, pytest.raises(telnyx.InternalServerError):
        sync.run_incremental_sync(client=fragile)

    failed = SyncRun.objects.order_by("-started_at").first()
    assert failed.status == SyncRun.Status.FAILED
    assert "500" in failed.error
    assert failed.event_high_water is None
    assert sync.last_successful_run() == before
    assert PortOut.objects.get(id=target).status == "pending"

    run = sync.run_incremental_sync(client=client)
    assert run.status == SyncRun.Status.SUCCEEDED
    assert PortOut.objects.get(id=target).status == "canceled"


# --------------------------------------------------------------------------- incremental


def test_incremental_without_a_previous_run_is_a_full_sync(sandbox, client):
    run = sync.run_incremental_sync(client=client)
    assert run.kind == SyncRun.Kind.FULL
    assert_cache_equals_sandbox(sandbox)


def test_incremental_picks_up_new_portouts_status_foc_and_comments(sandbox, client):
    sync.run_full_sync(client=client)
    state = sandbox.state
    canceled, moved, commented = pending_ids(sandbox, 3)
    state.change_status(canceled, "canceled")
    new_foc = datetime.now(UTC) + timedelta(days=9)
    state.change_foc_date(moved, new_foc)
    comment = state.add_comment(commented, "Carrier asked for a new LOA")
    created = state.create_portout()

    run = sync.run_incremental_sync(client=client)

    assert run.kind == SyncRun.Kind.INCREMENTAL
    assert run.status == SyncRun.Status.SUCCEEDED
    assert PortOut.objects.get(id=canceled).status == "canceled"
    assert ts(PortOut.objects.get(id=moved).foc_date) == iso_ts(new_foc.timestamp())
    assert Comment.objects.filter(id=comment.id, portout_id=commented).exists()
    assert PortOut.objects.filter(id=created.id).exists()
    assert PortOutEvent.objects.filter(source="api", portout_id=canceled).exists()
    assert_cache_equals_sandbox(sandbox)
    # listings (2) + a complete read of each of the three (4 each while pending, 3 once
    # canceled) + the new one's details (3)
    assert run.api_requests <= 2 + 3 * 4 + 3 + run.counts.get("inventory_requests", 0)


def test_incremental_cost_grows_with_changes_not_account_size(sandbox, client):
    sync.run_full_sync(client=client)
    quiet = sync.run_incremental_sync(client=client)
    assert quiet.api_requests == 2  # the two listings, nothing to refetch

    for pid in pending_ids(sandbox, 4):
        sandbox.state.change_status(pid, "canceled")
    busy = sync.run_incremental_sync(client=client)
    # each canceled one read in full: row, comments, docs (and its numbers, with an inventory)
    assert busy.api_requests == 2 + 4 * 3 + busy.counts.get("inventory_requests", 0)


def test_incremental_refetches_each_portout_once_and_stores_events_once(sandbox, client):
    sync.run_full_sync(client=client)
    pid = pending_ids(sandbox, 1)[0]
    sandbox.state.change_foc_date(pid, datetime.now(UTC) + timedelta(days=3))
    sandbox.state.change_foc_date(pid, datetime.now(UTC) + timedelta(days=4))
    sandbox.state.change_status(pid, "canceled")

    run = sync.run_incremental_sync(client=client)
    again = sync.run_incremental_sync(client=client)

    # two listings + one complete read of the port-out (and its numbers, with an inventory)
    assert run.api_requests == 2 + 3 + run.counts.get("inventory_requests", 0)
    assert again.api_requests == 2  # events seen before (overlap) are not processed again
    stored = set(PortOutEvent.objects.filter(portout_id=pid).values_list("id", flat=True))
    assert set(sandbox.state._events_by_portout[pid][-3:]) <= stored
    assert PortOut.objects.get(id=pid).status == "canceled"


def test_refresh_portout_stores_details_and_flags_vanished(sandbox, client):
    pid = pending_ids(sandbox, 1)[0]
    row = sync.refresh_portout(pid, client=client)
    assert row.details_synced_at is not None
    assert RejectionCode.objects.filter(portout_id=pid).count() == len(
        sandbox.state.portouts[pid].rejection_codes
    )

    PortOut.objects.filter(id=pid).update(id=pid)  # still there
    sync.store_portout(telnyx.PortoutData.from_api(portout_json(id="not-in-telnyx")))
    with pytest.raises(telnyx.NotFoundError):
        sync.refresh_portout("not-in-telnyx", client=client)
    assert PortOut.objects.get(id="not-in-telnyx").vanished_at is not None


# --------------------------------------------------------------------------- storing rules


def test_storing_a_page_of_250_takes_a_constant_number_of_queries():
    def page(n: int, prefix: str) -> tuple[list[telnyx.PortoutData], dict[str, sync.Details]]:
        items, details = [], {}
        for i in range(n):
            pid = f"{prefix}-{i}"
            items.append(
                telnyx.PortoutData.from_api(
                    portout_json(id=pid, phone_numbers=[f"+1312555{i:04d}", f"+1773555{i:04d}"])
                )
            )
            details[pid] = sync.Details(
                comments=[telnyx.CommentData.from_api({"id": f"c-{pid}", "body": "hi"})],
                documents=[
                    telnyx.SupportingDocumentData.from_api(
                        {"id": f"d-{pid}", "type": "loa", "document_id": "x"}
                    )
                ],
                rejection_codes=[telnyx.RejectionCodeData.from_api({"code": 1001})],
            )
        return items, details

    counts = []
    for n, prefix in ((10, "small"), (250, "big")):
        items, details = page(n, prefix)
        with CaptureQueriesContext(connection) as ctx:
            sync._store_batch(items, timezone.now(), details)
        counts.append(len(ctx.captured_queries))
    # Held comments and documents are read to compare, one more reads the alert rules (15),
    # then the batch's risk flags are computed and stored (16, savepoints included;
    # portouts.risk.engine), reading the numbers' inventory and customers (at most 7).
    assert counts[0] == counts[1] <= 15 + 16 + 7
    assert PortOut.objects.count() == 260
    assert PortOutNumber.objects.count() == 520
    assert Comment.objects.count() == SupportingDocument.objects.count() == 260

    # Storing the same 250 again (an unchanged page) does not touch the numbers.
    items, details = page(250, "big")
    with CaptureQueriesContext(connection) as ctx:
        sync.store_portouts(items)
    assert len(ctx.captured_queries) <= counts[1]
    assert PortOutNumber.objects.count() == 520


def test_ported_out_at_is_when_the_status_first_became_ported():
    first = datetime(2025, 3, 1, 12, tzinfo=UTC)
    sync.store_portout(
        telnyx.PortoutData.from_api(
            portout_json(id="p1", status="ported", updated_at=first.isoformat())
        )
    )
    later = first + timedelta(days=2)
    row = sync.store_portout(
        telnyx.PortoutData.from_api(
            portout_json(id="p1", status="ported", updated_at=later.isoformat(), pon="X")
        )
    )
    assert row.ported_out_at == first
    assert row.pon == "X"


def test_an_older_copy_does_not_overwrite_a_newer_one():
    new = datetime(2025, 3, 2, tzinfo=UTC)
    sync.store_portout(
        telnyx.PortoutData.from_api(
            portout_json(id="p2", status="canceled", updated_at=new.isoformat())
        )
    )
    result = sync.store_portouts(
        [
            telnyx.PortoutData.from_api(
                portout_json(
                    id="p2", status="pending", updated_at=(new - timedelta(hours=1)).isoformat()
                )
            )
        ]
    )
    assert result.stale == 1
    assert PortOut.objects.get(id="p2").status == "canceled"


@respx.mock(base_url=TEST_BASE_URL, assert_all_called=False)
def test_unexpected_api_data_is_stored_or_skipped_with_a_warning(respx_mock, caplog):
    items = [
        portout_json(id="ok-1"),
        portout_json(id=None),  # no id: skipped
        portout_json(id="odd-status", status="on-hold-by-carrier", extra_field={"x": 1}),
        portout_json(
            id="nulls",
            status=None,
            foc_date=None,
            created_at=None,
            updated_at="not a date",
            phone_numbers=None,
            reason=None,
            city=None,
        ),
        portout_json(id="local-numbers", phone_numbers=["3125550100", "+1 312 555 0101"]),
        portout_json(id="long", end_user_name="N" * 600, phone_numbers=["+1" + "9" * 40]),
        {"id": "bare"},
        "not an object",
    ]
    respx_mock.get("/portouts").mock(
        return_value=httpx.Response(
            200,
            json={
                "data": items,
                "meta": {"page_number": 1, "page_size": 250, "total_pages": 1, "total_results": 8},
            },
        )
    )
    respx_mock.get("/portouts/events").mock(
        return_value=httpx.Response(200, json={"data": [], "meta": {"total_pages": 0}})
    )
    respx_mock.get(path__regex=r"/portouts/[^/]+/(comments|supporting_documents)").mock(
        return_value=httpx.Response(200, json={"data": [{"id": None}, {"body": "x"}]})
    )
    respx_mock.get(path__regex=r"/portouts/rejections/.+").mock(
        return_value=httpx.Response(200, json={"data": [{"code": None}, {"code": 1001}]})
    )
    odd_numbers = [
        {"phone_number": "+13125550100", "tags": "one-tag", "purchased_at": "not a date"},
        {"phone_number": None},
        {"phone_number": "+1" + "9" * 40},
        "not an object",
    ]
    respx_mock.get("/phone_numbers").mock(
        return_value=httpx.Response(200, json={"data": odd_numbers, "meta": {"total_pages": 1}})
    )
    caplog.set_level(logging.WARNING)
    with TelnyxClient(TEST_API_KEY, base_url=TEST_BASE_URL, max_retries=0) as api:
        run = sync.run_full_sync(client=api)

    assert run.status == SyncRun.Status.SUCCEEDED
    number = PhoneNumber.objects.get()
    assert (number.number, number.tags, number.purchased_at) == ("+13125550100", ["one-tag"], None)
    assert "too long to cache" in caplog.text
    stored = set(PortOut.objects.values_list("id", flat=True))
    assert stored == {"ok-1", "odd-status", "nulls", "local-numbers", "long", "bare"}
    assert PortOut.objects.get(id="odd-status").status == "on-hold-by-carrier"
    nulls = PortOut.objects.get(id="nulls")
    assert (nulls.status, nulls.foc_date, nulls.updated_at, nulls.number_count) == (
        "",
        None,
        None,
        0,
    )
    assert PortOut.objects.get(id="long").end_user_name == "N" * 255
    assert PortOut.objects.get(id="local-numbers").country_code == ""
    assert set(
        PortOutNumber.objects.filter(portout_id="local-numbers").values_list("number", flat=True)
    ) == {
        "3125550100",
        "+1 312 555 0101",
    }
    assert not PortOutNumber.objects.filter(portout_id="long").exists()
    assert Comment.objects.count() == 0  # comments without ids are skipped
    text = caplog.text
    assert "without an id" in text
    assert "not an E.164 number" in text
    assert "keeping the first 255" in text


def test_a_database_error_in_a_batch_falls_back_to_row_by_row(monkeypatch, caplog):
    real = sync._write_batch
    calls = {"n": 0}

    def flaky(portouts, now, existing, details, read_began):
        calls["n"] += 1
        if len(portouts) > 1 or portouts[0].id == "bad":
            from django.db import DataError

            raise DataError("value too long")
        return real(portouts, now, existing, details, read_began)

    monkeypatch.setattr(sync.store, "_write_batch", flaky)
    items = [telnyx.PortoutData.from_api(portout_json(id=i)) for i in ("a", "bad", "c")]
    result = sync.store_portouts(items)
    assert sorted(PortOut.objects.values_list("id", flat=True)) == ["a", "c"]
    assert result.skipped == 1
    assert "Could not store port-out bad" in caplog.text


# --------------------------------------------------------------------------- one sync at a time


def test_only_one_sync_runs_at_a_time(sandbox, client):
    lock = sync.SyncLock()
    assert lock.acquire()
    try:
        with pytest.raises(sync.SyncAlreadyRunning):
            sync.run_full_sync(client=client)
    finally:
        lock.release()
    assert sync.run_full_sync(client=client).status == SyncRun.Status.SUCCEEDED


def test_lock_refresh_says_when_another_sync_holds_it():
    from django.core.cache import cache

    lock = sync.SyncLock()
    assert lock.acquire()
    try:
        assert lock.refresh() is True
        cache.delete(lock.key)  # expired during a long pause, nobody took it
        assert lock.refresh() is True
        assert cache.get(lock.key) == lock.token
        cache.set(lock.key, "another-owner", sync.LOCK_TTL)  # expired, then taken
        assert lock.refresh() is False
        lock.release()
        assert cache.get(lock.key) == "another-owner"  # not ours to release
    finally:
        cache.delete(lock.key)


def test_a_run_that_lost_its_lock_stops_at_the_next_page(sandbox, client):
    from django.core.cache import cache

    key = sync.SyncLock().key
    pages: list[int] = []

    def take_over(run: SyncRun) -> None:
        pages.append(run.progress_done)
        if len(pages) == 1:
            cache.set(key, "another-sync", sync.LOCK_TTL)

    try:
        with pytest.raises(sync.SyncTakenOver):
            sync.run_full_sync(client=client, on_progress=take_over)
        assert cache.get(key) == "another-sync"  # the other sync keeps its lock
    finally:
        cache.delete(key)
    run = SyncRun.objects.get()
    assert run.status == SyncRun.Status.FAILED
    assert "another sync took over" in run.error.lower()
    assert run.event_high_water is None  # marks only move on success
    assert len(pages) == 2  # the progress that saw the takeover, then the failed run
    assert not PortOut.objects.exists()  # stopped before the listing was stored


@pytest.mark.django_db(transaction=True)
def test_a_slow_page_keeps_the_heartbeat_and_lock_fresh(sandbox, client, monkeypatch):
    import threading

    from django.core.cache import cache

    monkeypatch.setattr("portouts.sync.runs.HEARTBEAT_EVERY", 0.02)
    real = client.list_portouts_page
    seen: dict[str, Any] = {}

    def slow_first_page(**kwargs):
        if kwargs.get("page_number") == 1 and "before" not in seen:
            run = SyncRun.objects.get(status=SyncRun.Status.RUNNING)
            seen["before"] = run.heartbeat_at
            cache.delete(sync.SyncLock().key)  # the lock expired during this page
            # A slow page: no progress is saved until Telnyx answers.
            for _ in range(500):
                threading.Event().wait(0.01)
                heartbeat = SyncRun.objects.get(pk=run.pk).heartbeat_at
                relocked = cache.get(sync.SyncLock().key) is not None
                if heartbeat > seen["before"] and relocked:
                    seen["after"] = heartbeat
                    break
        return real(**kwargs)

    monkeypatch.setattr(client, "list_portouts_page", slow_first_page)

    run = sync.run_full_sync(client=client)

    assert run.status == SyncRun.Status.SUCCEEDED
    assert seen.get("after") is not None, "no heartbeat and no lock while the page was slow"
    assert not [t for t in threading.enumerate() if t.name.startswith("sync-heartbeat")]
    assert sync.fail_stale_runs(now=seen["after"] + sync.STALE_AFTER / 2) == 0


def test_runs_left_running_by_a_stopped_worker_are_failed_within_a_minute():
    now = timezone.now()
    old = now - sync.STALE_AFTER - timedelta(seconds=5)
    stale = SyncRun.objects.create(kind="full", heartbeat_at=old, picked_up_at=old)
    alive = SyncRun.objects.create(kind="incremental", heartbeat_at=now, picked_up_at=now)
    queued = SyncRun.objects.create(kind="incremental", heartbeat_at=old)  # no worker yet

    assert timedelta(minutes=1) >= sync.STALE_AFTER
    assert sync.STALE_AFTER.total_seconds() > sync.LOCK_TTL  # the dead run's lock is gone
    assert sync.fail_stale_runs() == 1
    for run in (stale, alive, queued):
        run.refresh_from_db()
    assert stale.status == SyncRun.Status.FAILED
    assert stale.error.startswith("The worker running this sync stopped")
    assert alive.status == queued.status == SyncRun.Status.RUNNING

    SyncRun.objects.filter(pk=queued.pk).update(
        started_at=now - sync.QUEUED_STALE_AFTER - timedelta(seconds=1)
    )
    assert sync.fail_stale_runs() == 1
    queued.refresh_from_db()
    assert (queued.status, queued.error) == (SyncRun.Status.FAILED, sync.runs.NEVER_STARTED)


# --------------------------------------------------------------------------- command and page


def test_sync_portouts_command_shows_a_progress_bar(sandbox_settings):
    out = io.StringIO()
    call_command("sync_portouts", "--full", stdout=out)
    text = out.getvalue()
    assert "\r[" in text and "100%" in text
    assert "Full sync finished" in text
    assert PortOut.objects.count() == len(sandbox_settings.state.portouts)

    out = io.StringIO()
    call_command("sync_portouts", stdout=out)
    assert "Incremental sync finished" in out.getvalue()


def test_sync_page_lists_runs_for_viewers_who_cannot_start_one(viewer_client):
    SyncRun.objects.create(
        kind="full", status="failed", error="Telnyx did not answer", finished_at=timezone.now()
    )
    response = viewer_client.get(reverse("portouts:sync_runs"))
    assert response.status_code == 200
    assert b"Telnyx did not answer" in response.content
    assert b"Sync now" not in response.content
    assert b"The last sync failed" in response.content  # footer

    response = viewer_client.post(reverse("portouts:sync_start"))
    assert response.status_code == 403
    assert SyncRun.objects.count() == 1


def test_sync_now_queues_a_run_and_polls_its_progress(
    reviewer_client, monkeypatch, django_capture_on_commit_callbacks
):
    queued: list[dict[str, Any]] = []
    monkeypatch.setattr("portouts.tasks.sync_portouts_task.delay", lambda **kw: queued.append(kw))
    page = reviewer_client.get(reverse("portouts:sync_runs"))
    assert b"Sync now" in page.content

    with django_capture_on_commit_callbacks(execute=True):  # queued once the run is committed
        response = reviewer_client.post(
            reverse("portouts:sync_start"), {"kind": "incremental"}, headers={"HX-Request": "true"}
        )
    run = SyncRun.objects.get()
    assert response.status_code == 200
    assert run.kind == "full"  # the first sync is always full
    assert queued == [{"full": True, "triggered_by": "rita", "run_id": run.pk}]
    progress_url = reverse("portouts:sync_progress", args=[run.pk])
    assert f'hx-get="{progress_url}"'.encode() in response.content
    assert b"<html" not in response.content

    # A second click follows the same run instead of starting another.
    with django_capture_on_commit_callbacks(execute=True):
        reviewer_client.post(reverse("portouts:sync_start"), headers={"HX-Request": "true"})
    assert SyncRun.objects.count() == 1 and len(queued) == 1

    SyncRun.objects.filter(pk=run.pk).update(progress_done=30, progress_total=60)
    response = reviewer_client.get(progress_url)
    assert response.status_code == 200
    assert b'<progress class="progress" max="100" value="50"' in response.content

    SyncRun.objects.filter(pk=run.pk).update(status="succeeded", finished_at=timezone.now())
    response = reviewer_client.get(progress_url)
    assert response.status_code == 286  # htmx stops polling
    assert b"finished" in response.content


def test_sync_now_needs_csrf(reviewer):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(reviewer)
    assert browser.post(reverse("portouts:sync_start")).status_code == 403
    assert not SyncRun.objects.exists()


def test_footer_shows_last_successful_sync(viewer_client):
    SyncRun.objects.create(kind="incremental", status="succeeded", finished_at=timezone.now())
    response = viewer_client.get(reverse("portouts:queue"))
    assert b"Cache synced with Telnyx" in response.content
    assert b"The last sync failed" not in response.content


def test_timestamps_in_the_future_do_not_hide_later_changes(sandbox, client):
    state = sandbox.state
    target, other = pending_ids(sandbox, 2)
    with state.lock:
        po = state.portouts[other]
        state.record_event("portout.foc_date_changed", po, at=po.updated_ts + 86400, foc_ts=0)
        po.updated_ts += 86400  # Telnyx clock or data gone wrong: a day ahead
        po.json_cache = None
    run = sync.run_full_sync(client=client)
    assert run.event_high_water <= timezone.now()
    assert run.inserted_at_high_water <= timezone.now()

    state.change_status(target, "canceled")
    state.change_status(other, "canceled")  # updated_at now earlier than the stored one
    sync.run_incremental_sync(client=client)

    assert PortOut.objects.get(id=target).status == "canceled"
    assert PortOut.objects.get(id=other).status == "canceled"


def test_full_sync_over_many_pages_fetched_concurrently(sandbox, client):
    with TelnyxClient("KEYsandbox_test_key", base_url=sandbox.base_url, page_size=7) as small_pages:
        sync.run_full_sync(client=client)
        sandbox.state.change_status(pending_ids(sandbox, 1)[0], "canceled")
        run = sync.run_full_sync(client=small_pages)

    pages = -(-len(sandbox.state.portouts) // 7)
    event_pages = -(-len(window_events(sandbox, run)) // 7)
    assert pages > sync.PAGE_WINDOW  # more pages than fetched ahead at once
    assert event_pages > sync.PAGE_WINDOW
    # every events page, every port-out page, the reads of every port-out
    assert run.api_requests == (
        event_pages + pages + full_read_requests(sandbox) + run.counts["inventory_requests"]
    )
    assert run.progress_done == len(sandbox.state.portouts)
    assert_cache_equals_sandbox(sandbox)


# --------------------------------------------------------------------------- events


def window_events(sandbox, run: SyncRun, days: int = 30) -> dict[str, tuple[str, str]]:
    """The sandbox's events of a full run's window: id -> (port-out id, event type)."""
    since = (run.started_at - timedelta(days=days)).timestamp()
    with sandbox.state.lock:
        events = list(sandbox.state.events.values())
    near = [e.id for e in events if abs(e.created_ts - since) < 5]
    assert not near, "an event on the window's edge would make the comparison ambiguous"
    return {
        e.id: (e.portout_id, e.event_type)
        for e in events
        if since <= e.created_ts <= run.started_at.timestamp() + 5
    }


def stored_events() -> dict[str, tuple[str, str]]:
    return {
        pk: (portout_id, event_type)
        for pk, portout_id, event_type in PortOutEvent.objects.values_list(
            "id", "portout_id", "event_type"
        )
    }


def event_queries(ctx: CaptureQueriesContext) -> int:
    """Queries that store or settle events, and the metrics' read of them; the risk flags'
    reads of status payloads (per stored batch of port-outs: portouts.risk.evidence and the
    verification panel's evidence it reads) are not among them."""

    def risk_read(sql: str) -> bool:  # selects the port-out and its payload only
        columns = sql.split(" FROM ")[0]
        return '"payload"' in columns and '"event_type"' not in columns

    return sum(
        "portouts_portoutevent" in q["sql"] and not risk_read(q["sql"])
        for q in ctx.captured_queries
    )


@pytest.mark.parametrize("days", [30, 10])
def test_full_sync_stores_the_events_of_the_window_once_and_processed(
    sandbox, client, settings, days
):
    settings.SYNC_EVENTS_WINDOW_DAYS = days
    with (
        TelnyxClient("KEYsandbox_test_key", base_url=sandbox.base_url, page_size=7) as small,
        CaptureQueriesContext(connection) as ctx,
    ):
        run = sync.run_full_sync(client=small)
    expected = window_events(sandbox, run, days)
    with sandbox.state.lock:
        assert len(expected) < len(sandbox.state.events)  # older events exist and are left out
    assert stored_events() == expected
    assert not PortOutEvent.objects.exclude(source="api").exists()
    assert not PortOutEvent.objects.filter(processed_at__isnull=True).exists()
    assert run.counts["events"] == len(expected)
    pages = -(-len(expected) // 7)
    # per events page: which ids are known, insert the new ones; after every port-out was
    # read, one UPDATE marks them processed; then the metrics' facts read the events of
    # each batch of port-outs once
    facts_batches = -(-PortOut.objects.count() // facts.BATCH_SIZE)
    assert event_queries(ctx) == 2 * pages + 1 + facts_batches

    # A second run stores no duplicates, and the next incremental run refetches nothing.
    with (
        TelnyxClient("KEYsandbox_test_key", base_url=sandbox.base_url, page_size=7) as small,
        CaptureQueriesContext(connection) as ctx,
    ):
        again = sync.run_full_sync(client=small)
    assert stored_events() == window_events(sandbox, again, days)
    # every port-out was read again, so the facts are derived again
    assert event_queries(ctx) == -(-len(window_events(sandbox, again, days)) // 7) + 1 + (
        facts_batches
    )
    assert sync.run_incremental_sync(client=client).api_requests == 2


def test_full_sync_events_show_on_the_portout_timeline(sandbox, client, viewer_client):
    sync.run_full_sync(client=client)
    with sandbox.state.lock:
        pid, ids = next(
            (pid, ids) for pid, ids in sandbox.state._events_by_portout.items() if len(ids) >= 2
        )
        types = {sandbox.state.events[i].event_type for i in ids}
    assert set(PortOutEvent.objects.filter(portout_id=pid).values_list("id", flat=True)) == set(ids)
    with sandbox.state.lock:
        comments = sum(sandbox.state.events[i].event_type == "portout.new_comment" for i in ids)
    entries = timeline.portout_history(portout=PortOut.objects.get(id=pid)).entries
    # Every event has its entry; a comment's event merges into the comment's one entry.
    assert sum(i.kind == "event" for i in entries) == len(ids) - comments
    assert sum(i.kind == "comment" for i in entries) == len(sandbox.state.list_comments(pid))
    assert types
    html = viewer_client.get(reverse("portouts:detail", args=[pid])).content.decode()
    for title in {i.title for i in entries}:
        assert escape(title) in html


def test_refresh_portout_stores_its_events_once(sandbox, client):
    pid = pending_ids(sandbox, 1)[0]
    sandbox.state.change_foc_date(pid, datetime.now(UTC) + timedelta(days=6))
    comment = sandbox.state.add_comment(pid, "Please confirm the account number")
    with sandbox.state.lock:
        expected = list(sandbox.state._events_by_portout[pid])

    sync.refresh_portout(pid, client=client)
    with CaptureQueriesContext(connection) as ctx:
        sync.refresh_portout(pid, client=client)

    rows = PortOutEvent.objects.filter(portout_id=pid)
    assert sorted(rows.values_list("id", flat=True)) == sorted(expected)
    assert rows.filter(source="api", processed_at__isnull=False).count() == len(expected)
    assert PortOutEvent.objects.count() == len(expected)  # only this port-out's
    assert Comment.objects.filter(id=comment.id).exists()
    # known ids, mark processed (nothing inserted twice), the facts read its events
    assert event_queries(ctx) == 3

    # Without details (after a review action) the events are not fetched.
    before = len(sandbox.requests)
    sync.refresh_portout(pid, client=client, details=False)
    assert [r[1] for r in list(sandbox.requests)[before:]] == [f"/v2/portouts/{pid}"]
