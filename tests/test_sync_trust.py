"""The cache the porting team can trust: whatever was delivered, dropped, failed or killed,
the sync ends with the cache equal to Telnyx (the sandbox's own state is the reference)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import close_old_connections
from django.utils import timezone

from portouts import sync
from portouts.models import Comment, PortOut, PortOutEvent, SupportingDocument, SyncRun
from portouts.telnyx import TelnyxClient
from tests.fixtures_celery import PASSED_SETTINGS, _database_url
from tests.test_sync import assert_cache_equals_sandbox

pytestmark = pytest.mark.django_db

API_KEY = "KEYsandbox_test_key"
PDF = b"%PDF-1.4\n% an LOA\n"


@pytest.fixture(autouse=True)
def _no_retry_waits(monkeypatch):
    monkeypatch.setattr("portouts.telnyx.retry.sleep", lambda seconds: None)


@pytest.fixture
def client(sandbox_settings):
    with TelnyxClient(API_KEY, base_url=sandbox_settings.base_url) as c:
        yield c


def assert_cache_equals_api(sandbox) -> None:
    """Every port-out, comment and document as the sandbox holds them: none lost,
    duplicated or different (bodies, authors and types compared, not just ids)."""
    assert_cache_equals_sandbox(sandbox)
    state = sandbox.state
    with state.lock:
        comments = {
            c.id: (c.portout_id, c.body, c.user_id or "")
            for cs in state.comments.values()
            for c in cs
        }
        documents = {
            d.id: (d.portout_id, d.type, d.document_id)
            for ds in state.supporting_documents.values()
            for d in ds
        }
    assert {
        pk: (pid, body, user)
        for pk, pid, body, user in Comment.objects.values_list(
            "id", "portout_id", "body", "user_id"
        )
    } == comments
    assert {
        pk: (pid, kind, doc)
        for pk, pid, kind, doc in SupportingDocument.objects.values_list(
            "id", "portout_id", "type", "document_id"
        )
    } == documents
    assert not PortOut.objects.filter(details_stale=True).exists()


def pending(sandbox, n: int, *, skip: int = 0) -> list[str]:
    with sandbox.state.lock:
        ids = [p.id for p in sandbox.state.portouts.values() if p.status == "pending"]
    assert len(ids) >= skip + n
    return ids[skip : skip + n]


def attach_document(sandbox, pid: str) -> None:
    """An LOA attached in Telnyx outside the dashboard (no event is sent for it)."""
    with TelnyxClient(API_KEY, base_url=sandbox.base_url) as outside:
        doc = outside.upload_document(
            filename="loa.pdf", content=PDF, content_type="application/pdf"
        )
        assert doc.id
        outside.create_supporting_documents(pid, documents=[("loa", doc.id)])


def change_everything(sandbox, *, skip: int = 0) -> None:
    """Status changes, comments with and without their event, documents without events."""
    state = sandbox.state
    ids = pending(sandbox, 12, skip=skip)
    with TelnyxClient(API_KEY, base_url=sandbox.base_url) as outside:
        outside.update_portout_status(
            ids[0], status="authorized", reason="Confirmed with the customer"
        )
        outside.create_comment(ids[2], body="Posted through the API")
    state.change_status(ids[1], "canceled")
    for pid in ids[3:6]:
        state.add_comment(pid, "The gaining carrier asks for an invoice", user_id=None)
    for pid in ids[6:8]:
        state.add_comment(pid, "A comment Telnyx never sent an event for", event=False)
    for pid in ids[8:11]:
        attach_document(sandbox, pid)
    state.create_portout()


FAULTS = {
    "rate_limit_ratio": 0.08,
    "retry_after": 0,
    "error_ratio": 0.10,
    "drop_ratio": 0.08,
}


def test_a_full_sync_completes_in_one_run_on_a_flaky_telnyx_and_the_cache_ends_equal(
    sandbox_settings,
):
    """A quarter of requests fail (429, 500/503, dropped connections); the client's default
    retries and the sync's own handling are enough for one run to finish, and one
    incremental plus one full sync after changes leave nothing lost or different."""
    sandbox = sandbox_settings
    sandbox.reset(seed_count=300)
    default = TelnyxClient(API_KEY, base_url=sandbox.base_url)  # max_retries=3
    sandbox.faults.configure(**FAULTS, seed=5)
    try:
        first = sync.run_full_sync(client=default)
        faults = dict(sandbox.faults.counts)
        sandbox.faults.reset()  # the changes themselves are made on a healthy Telnyx
        change_everything(sandbox)
        sandbox.faults.configure(**FAULTS, seed=6)
        incremental = sync.run_incremental_sync(client=default)
        full = sync.run_full_sync(client=default)
        for kind, n in sandbox.faults.counts.items():
            faults[kind] = faults.get(kind, 0) + n
        sandbox.faults.reset()
        # Any port-out whose reads failed through every retry is read by the next run.
        last = sync.run_incremental_sync(client=default)
    finally:
        default.close()
        sandbox.faults.reset()

    assert sum(faults.values()) > 300, faults
    for run in (first, incremental, full, last):
        assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert_cache_equals_api(sandbox)
    assert not PortOutEvent.objects.filter(processed_at__isnull=True).exists()


def test_comments_and_documents_added_without_events_arrive_with_the_next_full_sync(
    sandbox_settings, client
):
    sandbox = sandbox_settings
    sync.run_full_sync(client=client)
    change_everything(sandbox)

    # No incremental in between: the full sync alone must bring every comment, even those
    # whose events it stores and those that never had one.
    run = sync.run_full_sync(client=client)

    assert run.status == SyncRun.Status.SUCCEEDED
    assert_cache_equals_api(sandbox)
    assert not PortOutEvent.objects.filter(processed_at__isnull=True).exists()
    assert sync.run_incremental_sync(client=client).api_requests == 2  # nothing owed


def test_a_failed_full_sync_marks_no_event_processed_and_the_next_run_resumes(
    sandbox_settings, client, monkeypatch
):
    sandbox = sandbox_settings
    sandbox.reset(seed_count=40)
    sync.run_full_sync(client=client)
    ids = pending(sandbox, 4)
    sandbox.state.change_status(ids[0], "canceled")
    sandbox.state.add_comment(ids[1], "Before the failing run")
    small = TelnyxClient(API_KEY, base_url=sandbox.base_url, page_size=10, max_retries=0)
    real = small.list_portouts_page

    def listing_that_dies(**kwargs):
        if kwargs.get("page_number") == 3:
            raise RuntimeError("the worker was stopped")
        return real(**kwargs)

    monkeypatch.setattr(small, "list_portouts_page", listing_that_dies)
    with small, pytest.raises(RuntimeError):
        sync.run_full_sync(client=small)
    failed = SyncRun.objects.order_by("-started_at").first()
    assert failed.status == SyncRun.Status.FAILED
    assert failed.reconciling_since is not None
    # It stored its events, but marked none of them processed.
    new_events = PortOutEvent.objects.filter(
        portout_id__in=ids[:2], received_at__gte=failed.started_at
    )
    assert new_events.exists()
    assert not new_events.filter(processed_at__isnull=False).exists()

    with TelnyxClient(API_KEY, base_url=sandbox.base_url, page_size=10) as resumed_client:
        resumed = sync.run_full_sync(client=resumed_client)
    assert resumed.status == SyncRun.Status.SUCCEEDED
    assert resumed.counts["resumed"] == 1
    assert resumed.reconciling_since == failed.reconciling_since
    # The two pages the failed run read in full are not read again (unless changed).
    assert resumed.counts["details_fetched"] <= len(sandbox.state.portouts) - 20 + 2
    assert_cache_equals_api(sandbox)


def test_a_detail_read_that_keeps_failing_marks_the_portout_stale_not_the_run_failed(
    sandbox_settings, client, monkeypatch
):
    sandbox = sandbox_settings
    victim = pending(sandbox, 1)[0]
    real = client.list_comments

    def comments(pid):
        if pid == victim:
            from portouts.telnyx import InternalServerError

            raise InternalServerError("Telnyx answered 500", status_code=500)
        return real(pid)

    monkeypatch.setattr(client, "list_comments", comments)
    run = sync.run_full_sync(client=client)

    assert run.status == SyncRun.Status.SUCCEEDED
    assert run.counts["details_stale"] == 1
    assert run.counts["still_to_retry"] == 1
    row = PortOut.objects.get(id=victim)
    assert row.details_stale and row.details_synced_at is None
    assert PortOutEvent.objects.filter(portout_id=victim, processed_at__isnull=True).exists()

    monkeypatch.setattr(client, "list_comments", real)
    again = sync.run_incremental_sync(client=client)
    assert "still_to_retry" not in again.counts
    assert not PortOut.objects.filter(details_stale=True).exists()
    assert_cache_equals_api(sandbox)


def test_webhook_refreshes_coalesce_into_one(settings, monkeypatch):
    queued: list[tuple[tuple[str, ...], int | None]] = []
    monkeypatch.setattr(
        "portouts.sync.refresh.refresh_portout_task.apply_async",
        lambda args, countdown=None: queued.append((tuple(args), countdown)),
    )
    assert sync.refresh_portout_soon("po-1") is True
    assert sync.refresh_portout_soon("po-1") is False
    assert sync.refresh_portout_soon("po-2") is True
    assert sync.refresh_portout_soon("po-1") is False
    assert queued == [(("po-1",), sync.COALESCE_SECONDS), (("po-2",), sync.COALESCE_SECONDS)]

    # The refresh clears the mark before it reads: a webhook arriving during the read
    # queues the next one.
    monkeypatch.setattr("portouts.sync.refresh.refresh_portout", lambda *a, **k: None)
    sync.handle_event("po-1")
    assert sync.refresh_portout_soon("po-1") is True
    assert len(queued) == 3


def test_a_burst_of_webhooks_for_one_portout_makes_one_refresh(sandbox_settings, client):
    """Three events (status, comment, FOC) delivered together: one refresh reads Telnyx
    once and settles all three."""
    sandbox = sandbox_settings
    sync.run_full_sync(client=client)
    pid = pending(sandbox, 1)[0]
    sandbox.state.change_foc_date(pid, time.time() + 6 * 86400)
    sandbox.state.add_comment(pid, "Please confirm")
    sandbox.state.change_status(pid, "canceled")
    with sandbox.state.lock:
        ids = sandbox.state._events_by_portout[pid][-3:]
        events = [sandbox.state.webhook_data(sandbox.state.events[i]) for i in ids]
    from portouts import telnyx

    for data in events:
        sync.store_webhook_event(telnyx.parse_webhook(_envelope(data)))
    before = len(sandbox.requests)
    sync.handle_event(pid, client=client)

    paths = [r[1] for r in list(sandbox.requests)[before:]]
    assert paths.count(f"/v2/portouts/{pid}") == 1
    assert PortOut.objects.get(id=pid).status == "canceled"
    assert not PortOutEvent.objects.filter(id__in=ids, processed_at__isnull=True).exists()


def _envelope(data: dict) -> bytes:
    import json

    return json.dumps({"data": data, "meta": {"attempt": 1}}).encode()


@pytest.mark.django_db(transaction=True)
def test_a_full_sync_killed_mid_run_loses_nothing_for_the_next_incremental(sandbox_settings):
    """SIGKILL after its events stage and a page of port-outs: every status change and
    comment made before the kill is in the cache after the next incremental run."""
    sandbox = sandbox_settings
    sandbox.reset(seed_count=400)
    with TelnyxClient(API_KEY, base_url=sandbox.base_url) as client:
        sync.run_full_sync(client=client)
    change_everything(sandbox)
    sandbox.faults.configure(latency_ms=15)

    env = dict(os.environ, DATABASE_URL=_database_url(), DJANGO_SETTINGS_MODULE="portal.settings")
    for name in PASSED_SETTINGS:
        if (value := getattr(settings, name, None)) is not None:
            env[name] = str(value)
    process = subprocess.Popen(
        [sys.executable, "manage.py", "sync_portouts", "--full"],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        killed = _wait_for_first_page(process)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
        sandbox.faults.reset()
    assert killed.counts.get("events") and 0 < killed.progress_done < killed.progress_total

    # A minute passes: the lock expires (LOCK_TTL) and the run's heartbeat goes stale.
    cache.delete(sync.SyncLock().key)
    SyncRun.objects.filter(pk=killed.pk).update(
        heartbeat_at=timezone.now() - sync.STALE_AFTER - timedelta(seconds=1)
    )
    with TelnyxClient(API_KEY, base_url=sandbox.base_url) as client:
        run = sync.run_incremental_sync(client=client)

    assert run.status == SyncRun.Status.SUCCEEDED
    killed.refresh_from_db()
    assert killed.status == SyncRun.Status.FAILED
    assert killed.error == sync.runs.DEAD_WORKER
    # Everything with an event is in; the comments Telnyx sent no event for wait for the
    # next full sync (which resumes the killed one).
    with sandbox.state.lock:
        statuses = {pid: po.status for pid, po in sandbox.state.portouts.items()}
        comments = {
            c.id for cs in sandbox.state.comments.values() for c in cs if "never sent" not in c.body
        }
    assert dict(PortOut.objects.values_list("id", "status")) == statuses
    assert comments <= set(Comment.objects.values_list("id", flat=True))
    with TelnyxClient(API_KEY, base_url=sandbox.base_url) as client:
        resumed = sync.run_full_sync(client=client)
    assert resumed.counts["resumed"] == 1
    assert_cache_equals_api(sandbox)


def _wait_for_first_page(process: subprocess.Popen[bytes]) -> SyncRun:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        close_old_connections()
        run = SyncRun.objects.filter(kind=SyncRun.Kind.FULL, status=SyncRun.Status.RUNNING).first()
        if run is not None and run.progress_done > 0:
            return run
        if process.poll() is not None:
            pytest.fail(
                f"The sync ended before it could be killed: {process.stderr.read().decode()}"
            )
        time.sleep(0.05)
    pytest.fail("The sync stored no page within 60 s")
