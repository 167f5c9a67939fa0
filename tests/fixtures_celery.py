"""A real Celery worker in a subprocess, for tests of tasks end to end (any area's tasks).

`celery_worker_process` starts `celery -A portal worker --pool=solo` with the test
process's environment, pointed at:

- the test database (the SQLite test file, or the PostgreSQL test database by name) —
  the fixture uses `transactional_db`, so what the test writes is committed and visible;
- its own queue (unique name), and with the file-system broker its own broker folders
  (CELERY_BROKER_DIR), so a developer's worker or another test run never takes its tasks;
- the current Telnyx settings (TELNYX_API_BASE_URL, TELNYX_API_KEY, TELNYX_PUBLIC_KEY) and
  MEDIA_ROOT, read when the fixture starts: request `sandbox_settings` (or set them) first.

In the test process, `.delay()` sends to that queue and broker while the fixture is active.
`worker.wait_for(predicate, timeout)` polls until the predicate is true; `worker.log()`
returns the worker's output (shown when a test fails).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import close_old_connections, connection

from portal.celery import app

READY_TIMEOUT = 60.0
PASSED_SETTINGS = ("TELNYX_API_BASE_URL", "TELNYX_API_KEY", "TELNYX_PUBLIC_KEY", "MEDIA_ROOT")


@dataclass
class CeleryWorker:
    process: subprocess.Popen[bytes]
    queue: str
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def wait_for(self, predicate: Callable[[], Any], timeout: float = 60.0) -> Any:
        """Poll `predicate` (fresh DB connection each time) until truthy; fail with the log."""
        deadline = time.monotonic() + timeout
        while True:
            close_old_connections()
            value = predicate()
            if value:
                return value
            if self.process.poll() is not None:
                pytest.fail(f"The Celery worker exited ({self.process.returncode}):\n{self.log()}")
            if time.monotonic() > deadline:
                pytest.fail(f"Timed out after {timeout} s waiting on the worker:\n{self.log()}")
            time.sleep(0.1)


def _database_url() -> str:
    db = connection.settings_dict
    if db["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{Path(db['NAME']).resolve()}"
    if db["ENGINE"] == "django.db.backends.postgresql":
        auth = quote(db.get("USER") or "")
        if db.get("PASSWORD"):
            auth += ":" + quote(db["PASSWORD"])
        host = db.get("HOST") or "127.0.0.1"
        port = db.get("PORT") or 5432
        return f"postgres://{auth}@{host}:{port}/{db['NAME']}"
    raise RuntimeError(f"No worker database URL for {db['ENGINE']}")


@pytest.fixture
def celery_worker_process(transactional_db: None, tmp_path: Path) -> Iterator[CeleryWorker]:
    queue = f"test-{uuid.uuid4().hex[:12]}"
    env = dict(os.environ)
    env["DJANGO_SETTINGS_MODULE"] = "portal.settings"
    env["DATABASE_URL"] = _database_url()
    env["CELERY_TASK_ALWAYS_EAGER"] = "0"
    for name in PASSED_SETTINGS:
        value = getattr(settings, name, None)
        if value is not None:
            env[name] = str(value)
    saved = {
        "broker_url": app.conf.broker_url,
        "broker_transport_options": app.conf.broker_transport_options,
        "task_default_queue": app.conf.task_default_queue,
        "task_always_eager": app.conf.task_always_eager,
    }
    changes: dict[str, Any] = {"task_default_queue": queue, "task_always_eager": False}
    if not settings.REDIS_URL:
        broker_dir = tmp_path / "broker"
        for sub in ("queue", "processed"):
            (broker_dir / sub).mkdir(parents=True, exist_ok=True)
        env["CELERY_BROKER_DIR"] = str(broker_dir)
        changes["broker_transport_options"] = {
            "data_folder_in": str(broker_dir / "queue"),
            "data_folder_out": str(broker_dir / "queue"),
            "processed_folder": str(broker_dir / "processed"),
            "store_processed": False,
        }
    _reconfigure(changes)

    log_path = tmp_path / "celery-worker.log"
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "portal",
        "worker",
        "--pool=solo",
        "--concurrency=1",
        "-Q",
        queue,
        "-n",
        f"{queue}@%h",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        "--loglevel=INFO",
    ]
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            command,
            cwd=settings.BASE_DIR,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    worker = CeleryWorker(process=process, queue=queue, log_path=log_path)
    try:
        deadline = time.monotonic() + READY_TIMEOUT
        while " ready." not in worker.log():
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"The Celery worker did not start:\n{worker.log()}")
            time.sleep(0.1)
        yield worker
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        _reconfigure(saved)


def _reconfigure(changes: dict[str, Any]) -> None:
    """Apply conf changes in this process and drop what Celery cached from the old ones."""
    app.conf.update(changes)
    app.close()  # connection and producer pools
    app.__dict__.pop("amqp", None)  # queues, router and default queue are cached there
