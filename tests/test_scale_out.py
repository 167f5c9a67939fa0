"""Two Celery workers and two beat processes on the same PostgreSQL and Redis: every
scheduled job runs once per tick (RedBeat's lock keeps one beat active) and two syncs
never run at once (the sync's lock in Redis)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import close_old_connections, connection

from portouts.models import SyncRun
from tests.fixtures_celery import PASSED_SETTINGS, _database_url

TICK = 2  # seconds between two runs of each scheduled job
WATCH = 20  # seconds the processes run
JOBS = (
    "portouts.tasks.sync_portouts_task",
    "portouts.tasks.poll_telnyx_reports_task",
    "portouts.tasks.expire_reports_task",
    "portouts.tasks.reconcile_review_actions_task",
    "portouts.tasks.alerts_evaluate_task",
)

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql" or not settings.REDIS_URL,
    reason="needs PostgreSQL (DATABASE_URL) and Redis (REDIS_URL), as in CI",
)


def _start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "celery", *command],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def _stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def _wait_for(folder: Path, pattern: str, text: str, count: int, what: str) -> None:
    """Until `count` logs matching `pattern` say `text` (a loaded machine takes its time)."""
    deadline = time.monotonic() + 120
    while sum(text in p.read_text() for p in folder.glob(pattern)) < count:
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not start")
        time.sleep(0.2)


def test_two_workers_and_two_beats_run_each_job_once_per_tick(
    transactional_db, sandbox_settings, tmp_path
):
    token = uuid.uuid4().hex[:10]
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="portal.settings",
        DATABASE_URL=_database_url(),
        CELERY_TASK_ALWAYS_EAGER="0",
        CELERY_TASK_DEFAULT_QUEUE=f"scale-{token}",
        CELERY_REDBEAT_KEY_PREFIX=f"redbeat-{token}:",
        PROBE_KEY=f"probe-{token}",
        SYNC_INCREMENTAL_EVERY=str(TICK),
        REPORT_POLL_EVERY=str(TICK),
        HOUSEKEEPING_EVERY=str(TICK),
        ALERTS_EVALUATE_EVERY=str(TICK),
    )
    for name in PASSED_SETTINGS:
        env[name] = str(getattr(settings, name))
    queue = env["CELERY_TASK_DEFAULT_QUEUE"]
    processes = [
        _start(
            ["-A", "tests.celery_probe", "worker", "--pool=solo", "-Q", queue, "-l", "INFO"]
            + ["-n", f"w{i}-{token}@%h", "--without-gossip", "--without-mingle"],
            env,
            tmp_path / f"worker-{i}.log",
        )
        for i in (1, 2)
    ]
    probe = redis.Redis.from_url(settings.REDIS_URL)
    try:
        _wait_for(tmp_path, "worker-*.log", " ready.", 2, "The Celery workers")
        processes += [
            _start(
                ["-A", "portal", "beat", "--max-interval", "1", "-l", "INFO"]
                + ["-s", str(tmp_path / f"beat-{i}")],
                env,
                tmp_path / f"beat-{i}.log",
            )
            for i in (1, 2)
        ]
        # One beat takes RedBeat's lock; the other waits for it (and would take over).
        _wait_for(tmp_path, "beat-*.log", "beat: Acquired lock", 1, "Celery beat")
        time.sleep(WATCH)
    finally:
        _stop(processes)
        entries = [json.loads(e) for e in probe.lrange(env["PROBE_KEY"], 0, -1)]
        probe.delete(env["PROBE_KEY"])
        for key in probe.scan_iter(f"redbeat-{token}:*"):
            probe.delete(key)
    logs = "\n".join(
        f"== {p.name}\n{p.read_text()[-3000:]}" for p in sorted(tmp_path.glob("*.log"))
    )

    workers = {e["worker"] for e in entries}
    assert len(workers) == 2, f"both workers should take jobs: {workers}\n{logs}"
    for job in JOBS:
        starts = sorted(e["at"] for e in entries if e["task"] == job and e["event"] == "start")
        # Once per tick: as many runs as ticks in the time beat was up (not twice as many),
        # and never two runs of one job within a fraction of a tick (two beats firing).
        assert 3 <= len(starts) <= WATCH // TICK + 1, f"{job}: {len(starts)} runs\n{logs}"
        # From the first tick on: the waiting beat writes no entry (portal/beat.py), so it
        # cannot put one the active beat has just sent back to "due now".
        gaps = [b - a for a, b in zip(starts, starts[1:], strict=False)]
        assert min(gaps) > TICK / 2, f"{job} ran twice in one tick: {gaps}\n{logs}"

    close_old_connections()
    runs = list(SyncRun.objects.exclude(finished_at=None).order_by("started_at"))
    assert runs, logs
    for earlier, later in zip(runs, runs[1:], strict=False):
        assert earlier.finished_at <= later.started_at, "two syncs ran at once"


def test_a_waiting_beat_writes_no_entry_until_it_holds_the_lock():
    """RedBeat's own scheduler writes the entries as it starts, lock or not."""
    from celery import Celery
    from redbeat import RedBeatScheduler

    from portal.beat import LockedRedBeatScheduler

    prefix = f"redbeat-{uuid.uuid4().hex[:10]}:"
    app = Celery("beat-probe", set_as_current=False)
    app.conf.update(
        broker_url="memory://",
        redbeat_redis_url=settings.REDIS_URL,
        redbeat_key_prefix=prefix,
        beat_schedule={"probe": {"task": "probe.task", "schedule": 60.0}},
    )
    probe = redis.Redis.from_url(settings.REDIS_URL)
    try:
        stock = RedBeatScheduler(app=app)
        assert list(probe.scan_iter(f"{prefix}*")), "RedBeat itself writes at start-up"
        for key in probe.scan_iter(f"{prefix}*"):
            probe.delete(key)

        scheduler = LockedRedBeatScheduler(app=app)
        assert not list(probe.scan_iter(f"{prefix}*"))
        scheduler.lock = probe.lock(scheduler.lock_key, timeout=30)
        assert scheduler.lock.acquire(blocking=False)
        scheduler.tick()
        assert probe.zscore(stock.app.redbeat_conf.schedule_key, f"{prefix}probe") is not None
        assert probe.hget(f"{prefix}probe", "meta") is not None  # sent, then rescheduled
    finally:
        for key in probe.scan_iter(f"{prefix}*"):
            probe.delete(key)
