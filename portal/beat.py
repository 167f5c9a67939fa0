"""Beat's scheduler: RedBeat's, storing the schedule only once it holds the lock.

RedBeat writes the static entries (CELERY_BEAT_SCHEDULE) to Redis when a beat starts,
before that beat waits for the lock. A second beat starting beside the active one read an
entry that had never run, the active beat then sent it, and the second beat's write put it
back to "due now": the job ran twice within a second. Here the entries are written at the
first tick, which only the beat holding the lock reaches, so a waiting beat writes nothing.
"""

from __future__ import annotations

from typing import Any

from redbeat import RedBeatScheduler


class LockedRedBeatScheduler(RedBeatScheduler):
    _stored = False

    def setup_schedule(self) -> None:
        """Deferred to the first tick (see the module's docstring)."""

    def tick(self, *args: Any, **kwargs: Any) -> float:
        if not self._stored:
            self._stored = True
            super().setup_schedule()
        return super().tick(*args, **kwargs)
