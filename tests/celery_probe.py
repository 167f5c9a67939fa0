"""The Celery app with a probe: every task's start and end, with the worker's name, pushed
to a Redis list (PROBE_KEY), so a test can see what several workers ran and when."""

from __future__ import annotations

import json
import os
import time
from typing import Any

import redis
from celery.signals import task_postrun, task_prerun

from portal.celery import app

__all__ = ["app"]

_redis = redis.Redis.from_url(os.environ["REDIS_URL"])
_KEY = os.environ["PROBE_KEY"]


def _push(event: str, task: Any, task_id: str) -> None:
    entry = {"event": event, "task": task.name, "id": task_id, "at": time.time()}
    entry["worker"] = task.request.hostname or ""
    _redis.rpush(_KEY, json.dumps(entry))


@task_prerun.connect
def _started(task_id: str, task: Any, **kwargs: Any) -> None:
    _push("start", task, task_id)


@task_postrun.connect
def _ended(task_id: str, task: Any, **kwargs: Any) -> None:
    _push("end", task, task_id)
