"""Sync tasks: retries, the one-sync lock, the beat schedule, and a real Celery worker."""

from __future__ import annotations

import importlib
from datetime import timedelta

import pytest
from celery.exceptions import Retry
from django.conf import settings

from portal.celery import app
from portouts import sync, tasks, telnyx
from portouts.models import PortOut, SyncRun


def test_beat_schedule_holds_both_sync_jobs():
    schedule = settings.CELERY_BEAT_SCHEDULE
    jobs = {name: job for name, job in schedule.items() if job["task"] == sync_task_name()}
    kinds = sorted(job["kwargs"]["full"] for job in jobs.values())
    assert kinds == [False, True]
    assert jobs["sync-incremental"]["schedule"] == timedelta(
        seconds=settings.SYNC_INCREMENTAL_EVERY
    )
    assert sync_task_name() in app.tasks
    assert "portouts.tasks.refresh_portout_task" in app.tasks


def sync_task_name() -> str:
    return "portouts.tasks.sync_portouts_task"


def test_tasks_ack_late_and_a_refresh_is_not_retried_by_celery_on_top_of_the_client():
    assert tasks.sync_portouts_task.acks_late is True
    task = tasks.refresh_portout_task
    assert task.acks_late is True
    assert not getattr(task, "autoretry_for", ())


def test_sync_retries_depend_on_who_asked_and_wait_less_than_a_queued_run_lives():
    assert tasks.sync_retries(full=False, triggered_by="beat") == 0
    assert tasks.sync_retries(full=True, triggered_by="beat") == tasks.SYNC_RETRIES_NIGHTLY
    assert tasks.sync_retries(full=False, triggered_by="rita") == 1
    assert tasks.sync_retries(full=True, triggered_by="rita") == 1
    assert timedelta(seconds=tasks.SYNC_RETRY_COUNTDOWN_MAX) < sync.QUEUED_STALE_AFTER


def failing(monkeypatch, target: str, times: int) -> list[int]:
    """Make `target` raise a connection error on its first `times` calls; returns the
    list of attempts."""
    module, name = target.rsplit(".", 1)
    real = getattr(importlib.import_module(module), name)
    attempts: list[int] = []

    def flaky(*args, **kwargs):
        attempts.append(1)
        if len(attempts) <= times:
            raise telnyx.APIConnectionError("Could not reach Telnyx")
        return real(*args, **kwargs)

    monkeypatch.setattr(target, flaky)
    return attempts


@pytest.mark.django_db
def test_a_beat_incremental_sync_is_not_retried(sandbox_settings, monkeypatch):
    tasks.sync_portouts_task.apply(kwargs={"full": True}).get()
    attempts = failing(monkeypatch, "portouts.sync.incremental._incremental_body", times=99)

    run_id = tasks.sync_portouts_task.apply(kwargs={"full": False}, throw=True).get()

    assert len(attempts) == 1  # no Retry raised: the next beat tick is the retry
    run = SyncRun.objects.get(pk=run_id)
    assert (run.kind, run.status) == (SyncRun.Kind.INCREMENTAL, SyncRun.Status.FAILED)
    assert "Could not reach Telnyx" in run.error
    assert SyncRun.objects.filter(kind=SyncRun.Kind.INCREMENTAL).count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("failures", [1, 99])
def test_a_sync_someone_asked_for_retries_once_on_the_same_run(
    sandbox_settings, monkeypatch, failures
):
    queued = sync.queue_run(kind="full", triggered_by="rita")
    attempts = failing(monkeypatch, "portouts.sync.full._store_window_events", times=failures)

    result = tasks.sync_portouts_task.apply(
        kwargs={"full": True, "triggered_by": "rita", "run_id": queued.pk}
    )

    assert len(attempts) == 2  # one retry at most
    assert SyncRun.objects.count() == 1  # the retry reused the run the person sees
    queued.refresh_from_db()
    if failures == 1:
        assert result.get() == queued.pk
        assert (queued.status, queued.error) == (SyncRun.Status.SUCCEEDED, "")
        assert PortOut.objects.count() == len(sandbox_settings.state.portouts)
    else:
        assert result.failed()
        assert isinstance(result.result, telnyx.APIConnectionError)
        assert (queued.status, queued.error) == (SyncRun.Status.FAILED, "Could not reach Telnyx")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("error", "retried"),
    [
        (telnyx.APITimeoutError("Telnyx did not answer"), True),
        (telnyx.APIConnectionError("Could not reach Telnyx"), True),
        ("429", True),
        ("503", True),
        ("401", False),
    ],
)
def test_sync_task_retries_only_transient_errors(monkeypatch, sandbox_settings, error, retried):
    monkeypatch.setattr("portouts.telnyx.retry.sleep", lambda seconds: None)
    if error == "401":
        sandbox_settings.api_key = "another-key"
    elif isinstance(error, str):
        # a real status error from the sandbox, after the client's own retries
        sandbox_settings.faults.queue(*[error] * 10)
        monkeypatch.setattr(settings, "TELNYX_MAX_RETRIES", 1)
        telnyx.reset_client()
    else:

        def boom(**kwargs):
            raise error

        monkeypatch.setattr(sync, "run_full_sync", boom)
    try:
        if retried:
            with pytest.raises(Retry):
                tasks.sync_portouts_task.apply(kwargs={"full": True}, throw=True)
        else:
            with pytest.raises(telnyx.AuthenticationError):
                tasks.sync_portouts_task.apply(kwargs={"full": True}, throw=True)
    finally:
        sandbox_settings.faults.reset()
        telnyx.reset_client()


@pytest.mark.django_db
def test_sync_task_skips_while_another_sync_runs_and_fails_its_queued_run(sandbox_settings):
    queued = sync.queue_run(kind="full", triggered_by="rita")
    lock = sync.SyncLock()
    assert lock.acquire()
    try:
        result = tasks.sync_portouts_task.apply(kwargs={"full": True, "run_id": queued.pk})
    finally:
        lock.release()
    assert result.get() is None
    queued.refresh_from_db()
    assert queued.status == SyncRun.Status.FAILED
    assert "already running" in queued.error
    assert not PortOut.objects.exists()


@pytest.mark.django_db
def test_sync_task_uses_the_queued_run_and_is_idempotent(sandbox_settings):
    queued = sync.queue_run(kind="full", triggered_by="rita")
    run_id = tasks.sync_portouts_task.apply(kwargs={"full": True, "run_id": queued.pk}).get()
    assert run_id == queued.pk
    queued.refresh_from_db()
    assert queued.status == SyncRun.Status.SUCCEEDED
    assert queued.triggered_by == "rita"
    count = PortOut.objects.count()
    assert count == len(sandbox_settings.state.portouts)
    # Running again (a redelivered message) changes nothing and makes a new run.
    again = tasks.sync_portouts_task.apply(kwargs={"full": True, "run_id": queued.pk}).get()
    assert again != queued.pk
    assert PortOut.objects.count() == count


@pytest.mark.django_db
def test_refresh_task_marks_the_event_processed_and_survives_a_vanished_portout(
    sandbox_settings,
):
    from portouts.models import PortOutEvent

    pid = next(iter(sandbox_settings.state.portouts))
    PortOutEvent.objects.create(id="ev-1", event_type="portout.status_changed", source="webhook")
    tasks.refresh_portout_task.apply(args=[pid, "ev-1"]).get()
    assert PortOut.objects.get(id=pid).details_synced_at is not None
    assert PortOutEvent.objects.get(id="ev-1").processed_at is not None

    tasks.refresh_portout_task.apply(args=["no-such-portout", None]).get()  # 404: no retry
    assert not PortOut.objects.filter(id="no-such-portout").exists()


@pytest.mark.worker
def test_a_real_celery_worker_runs_the_sync(sandbox_settings, celery_worker_process):
    tasks.sync_portouts_task.delay(full=True, triggered_by="worker-test")

    run = celery_worker_process.wait_for(
        lambda: (
            SyncRun.objects.filter(triggered_by="worker-test")
            .exclude(status=SyncRun.Status.RUNNING)
            .first()
        ),
        timeout=90,
    )
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert PortOut.objects.count() == len(sandbox_settings.state.portouts)

    # A webhook-style refresh through the worker too.
    pid = next(p for p in sandbox_settings.state.portouts.values() if p.status == "pending").id
    sandbox_settings.state.change_status(pid, "canceled")
    tasks.refresh_portout_task.delay(pid, None)
    celery_worker_process.wait_for(
        lambda: PortOut.objects.filter(id=pid, status="canceled").exists(), timeout=60
    )
