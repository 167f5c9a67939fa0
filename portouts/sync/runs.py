"""One sync at a time, recorded: the lock, SyncRun rows (progress, counts, heartbeat,
high-water marks) and the frame every run executes in."""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from django.core.cache import cache
from django.db import DatabaseError, connection, connections
from django.db.models import Q
from django.utils import timezone

from portouts import telnyx
from portouts.metrics.facts import facts_refresh_behind
from portouts.models import PortOut, SyncRun
from portouts.sync.fetch import _Api
from portouts.sync.store import StoreResult

logger = logging.getLogger("portouts.sync")

#: seconds between two heartbeats (lock TTL and SyncRun.heartbeat_at) sent by a small
#: background thread while a run is alive, so a slow page never looks like a dead worker
HEARTBEAT_EVERY = 15.0
#: a running sync whose heartbeat is older than this is considered dead (four missed beats)
STALE_AFTER = timedelta(seconds=60)
LOCK_KEY = "portouts:sync-lock"
#: the lock outlives three missed beats but expires before the run counts as dead, so the
#: run that finds a dead one can always take the lock
LOCK_TTL = 45
#: a run queued by "Sync now" that no worker has taken up after this long is failed
QUEUED_STALE_AFTER = timedelta(minutes=10)
DEAD_WORKER = (
    "The worker running this sync stopped (no sign of life for a minute); what it stored is "
    "kept and the next run carries on."
)
NEVER_STARTED = "No worker took this sync up within 10 minutes; start it again."


class SyncAlreadyRunning(Exception):
    """Another sync holds the lock; this one did not start."""


class SyncTakenOver(Exception):
    """This run lost the lock to another sync (it expired meanwhile); it stopped."""


class SyncLock:
    """At most one sync at a time, across processes: a cache entry with a TTL.

    The holder refreshes the TTL on every heartbeat; a crashed worker's lock expires after
    LOCK_TTL seconds, and its SyncRun (still "running", stale heartbeat) is marked failed
    by the next run. Once another owner holds the lock, `refresh` says so and the run
    stops: two syncs never keep running side by side.
    """

    def __init__(self) -> None:
        self.token = uuid.uuid4().hex
        self.held = False
        # One sync per database (several test databases may share one cache).
        self.key = f"{LOCK_KEY}:{connection.settings_dict['NAME']}"

    def acquire(self) -> bool:
        self.held = bool(cache.add(self.key, self.token, LOCK_TTL))
        return self.held

    def refresh(self) -> bool:
        """Extend the TTL; False when the lock is not ours any more (another owner)."""
        if not self.held:
            return False
        if cache.get(self.key) == self.token and cache.touch(self.key, LOCK_TTL):
            return True
        # Expired (a very long pause): take it again if free; else another sync has it.
        if cache.add(self.key, self.token, LOCK_TTL) or cache.get(self.key) == self.token:
            return True
        self.held = False
        return False

    def release(self) -> None:
        if self.held and cache.get(self.key) == self.token:
            cache.delete(self.key)
        self.held = False


def fail_stale_runs(*, now: datetime | None = None) -> int:
    """Fail runs whose worker died (no heartbeat for STALE_AFTER) and runs no worker took up
    (QUEUED_STALE_AFTER), each with a plain reason. The dead run's lock has expired by then
    (LOCK_TTL < STALE_AFTER), so "Sync now" works again at once."""
    now = now or timezone.now()
    cutoff = now - STALE_AFTER
    running = SyncRun.objects.filter(status=SyncRun.Status.RUNNING)
    dead = running.filter(picked_up_at__isnull=False).filter(
        Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True)
    )
    failed = dead.update(status=SyncRun.Status.FAILED, finished_at=now, error=DEAD_WORKER)
    queued = running.filter(picked_up_at__isnull=True, started_at__lt=now - QUEUED_STALE_AFTER)
    return failed + queued.update(
        status=SyncRun.Status.FAILED, finished_at=now, error=NEVER_STARTED
    )


def running_sync() -> SyncRun | None:
    """The full/incremental run in progress, if any (stale ones are failed first)."""
    fail_stale_runs()
    return (
        SyncRun.objects.filter(
            status=SyncRun.Status.RUNNING, kind__in=[SyncRun.Kind.FULL, SyncRun.Kind.INCREMENTAL]
        )
        .order_by("-started_at")
        .first()
    )


def last_successful_run() -> SyncRun | None:
    return (
        SyncRun.objects.filter(
            status=SyncRun.Status.SUCCEEDED,
            kind__in=[SyncRun.Kind.FULL, SyncRun.Kind.INCREMENTAL],
        )
        .order_by("-started_at")
        .first()
    )


def queue_run(*, kind: str, triggered_by: str) -> SyncRun:
    """A run row created before its task starts, so a page can show its progress at once.

    The task picks it up through `run_id`; a run never picked up is failed as stale later.
    """
    return SyncRun.objects.create(
        kind=kind, triggered_by=triggered_by[:64], heartbeat_at=timezone.now()
    )


def abandon_run(run_id: int | None, *, reason: str) -> None:
    """Fail a queued run that will not start (another sync held the lock)."""
    if run_id is not None:
        SyncRun.objects.filter(pk=run_id, status=SyncRun.Status.RUNNING).update(
            status=SyncRun.Status.FAILED, finished_at=timezone.now(), error=reason
        )


def reopen_run(run_id: int, *, reason: str) -> bool:
    """Put a failed run back to "running" for its retry, which picks it up by `run_id`:
    the person who asked sees one run, retrying, not a failed one and then another."""
    return bool(
        SyncRun.objects.filter(pk=run_id, status=SyncRun.Status.FAILED).update(
            status=SyncRun.Status.RUNNING,
            finished_at=None,
            heartbeat_at=timezone.now(),
            picked_up_at=None,  # queued again until its retry starts
            error=f"Retrying after: {reason}"[:2000],
        )
    )


class _Run:
    """A SyncRun being recorded: progress, counts, heartbeat."""

    def __init__(
        self,
        run: SyncRun,
        lock: SyncLock,
        api: _Api,
        on_progress: Callable[[SyncRun], None] | None,
    ) -> None:
        self.run = run
        self.lock = lock
        self.api = api
        self.on_progress = on_progress
        self.counts: dict[str, int] = {}
        #: set (by the heartbeat thread too) once another sync holds the lock
        self.lost = threading.Event()

    def check_lock(self) -> None:
        """Raise SyncTakenOver once the lock is another sync's (called at page boundaries)."""
        if not self.lost.is_set() and not self.lock.refresh():
            self.lost.set()
        if self.lost.is_set():
            raise SyncTakenOver("Another sync took over; this run stopped.")

    def save_reconciling_since(self, when: datetime) -> None:
        """Record, before reading, what a later full run resumes from if this one fails."""
        self.run.reconciling_since = when
        SyncRun.objects.filter(pk=self.run.pk).update(reconciling_since=when)

    def count(self, key: str, n: int = 1) -> None:
        if n:
            self.counts[key] = self.counts.get(key, 0) + n

    def set_count(self, key: str, n: int) -> None:
        """A total known up front (listing pages), saved with the next progress."""
        self.counts[key] = n

    def add_store(self, result: StoreResult) -> None:
        self.count("created", result.created)
        self.count("updated", result.updated)
        self.count("unchanged", result.unchanged)
        self.count("skipped", result.skipped)
        self.count("stale", result.stale)

    def progress(self, *, done: int | None = None, total: int | None = None) -> None:
        """Save progress and the heartbeat (one UPDATE) and refresh the lock; raises
        SyncTakenOver when another sync holds it now."""
        self.check_lock()
        run = self.run
        if done is not None:
            run.progress_done = done
        if total is not None:
            run.progress_total = total
        run.heartbeat_at = timezone.now()
        run.counts = dict(self.counts)
        run.api_requests = self.api.requests
        SyncRun.objects.filter(pk=run.pk).update(
            progress_done=run.progress_done,
            progress_total=run.progress_total,
            heartbeat_at=run.heartbeat_at,
            counts=run.counts,
            api_requests=run.api_requests,
        )
        if self.on_progress is not None:
            self.on_progress(run)


class _Heartbeat:
    """A daemon thread refreshing the lock and SyncRun.heartbeat_at every `every` seconds
    while a run is alive (a page can take longer than STALE_AFTER); it notes a lost lock
    for the run to stop at its next page boundary."""

    def __init__(self, state: _Run, *, every: float) -> None:
        self.state = state
        self.every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._loop, name=f"sync-heartbeat-{state.run.pk}", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _loop(self) -> None:
        try:
            while not self._stop.wait(self.every):
                self.beat()
        finally:
            connections.close_all()  # this thread's own connections

    def beat(self) -> None:
        state = self.state
        try:
            if not state.lost.is_set() and not state.lock.refresh():
                logger.error("Sync run %s lost its lock to another sync", state.run.pk)
                state.lost.set()
        except Exception:  # noqa: BLE001 - a cache outage must not kill the heartbeat
            logger.warning(
                "Could not refresh the lock of sync run %s: cache unreachable", state.run.pk
            )
        try:
            SyncRun.objects.filter(pk=state.run.pk, status=SyncRun.Status.RUNNING).update(
                heartbeat_at=timezone.now()
            )
        except DatabaseError:
            logger.warning("Could not save the heartbeat of sync run %s", state.run.pk)


def _start_run(kind: str, triggered_by: str, run_id: int | None) -> tuple[SyncRun, SyncLock]:
    lock = SyncLock()
    fail_stale_runs()
    if not lock.acquire():
        raise SyncAlreadyRunning("Another sync is running.")
    now = timezone.now()
    run: SyncRun | None = None
    if run_id is not None:
        run = SyncRun.objects.filter(pk=run_id, status=SyncRun.Status.RUNNING).first()
    if run is None:
        run = SyncRun.objects.create(
            kind=kind, triggered_by=triggered_by[:64], heartbeat_at=now, picked_up_at=now
        )
    else:
        run.kind = kind
        run.heartbeat_at = now
        run.picked_up_at = now
        run.save(update_fields=["kind", "heartbeat_at", "picked_up_at"])
    return run, lock


def _end_run(
    state: _Run, *, error: str = "", high_water: dict[str, datetime | None] | None = None
) -> SyncRun:
    run = state.run
    run.status = SyncRun.Status.FAILED if error else SyncRun.Status.SUCCEEDED
    run.finished_at = timezone.now()
    run.heartbeat_at = run.finished_at
    run.error = error
    run.counts = dict(state.counts)
    run.api_requests = state.api.requests
    fields = ["status", "finished_at", "heartbeat_at", "error", "counts", "api_requests"]
    if not error:
        run.progress_done = max(run.progress_done, run.progress_total or 0)
        fields.append("progress_done")
        if still := PortOut.objects.filter(details_stale=True).count():
            run.counts["still_to_retry"] = still
        for name, value in (high_water or {}).items():
            setattr(run, name, value)
            fields.append(name)
    run.save(update_fields=fields)
    if state.on_progress is not None:
        state.on_progress(run)
    return run


def _refresh_facts(state: _Run) -> None:
    """The metrics' facts of what this run changed; a failure there is logged and left for
    the next run (it finds them behind), never a failed sync."""
    try:
        state.count("facts", facts_refresh_behind())
    except DatabaseError:
        logger.exception("Could not refresh the metrics' facts; the next sync tries again")


def _error_text(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text[:2000]


def _execute(
    kind: str,
    body: Callable[[_Run], dict[str, datetime | None]],
    *,
    triggered_by: str,
    client: telnyx.TelnyxClient | None,
    run_id: int | None,
    on_progress: Callable[[SyncRun], None] | None,
) -> SyncRun:
    run, lock = _start_run(kind, triggered_by, run_id)
    state = _Run(run, lock, _Api(client or telnyx.get_client()), on_progress)
    heartbeat = _Heartbeat(state, every=HEARTBEAT_EVERY)
    heartbeat.start()
    try:
        try:
            high_water = body(state)
            state.check_lock()  # the marks are not moved by a run that lost the lock
            _refresh_facts(state)
        except Exception as exc:
            logger.exception("%s sync failed", kind.capitalize())
            _end_run(state, error=_error_text(exc))
            raise
        return _end_run(state, high_water=high_water)
    finally:
        heartbeat.stop()
        lock.release()


def _latest(mark: datetime | None, times: Iterable[datetime | None]) -> datetime | None:
    """A high-water mark moved on to the latest of `times` (None ones ignored)."""
    return max((t for t in (mark, *times) if t is not None), default=None)


def _clamp(mark: datetime | None, limit: datetime) -> datetime | None:
    """A high-water mark never goes past the run's start on our clock: one odd timestamp
    in the future must not make later runs skip what happens until then."""
    return None if mark is None else min(mark, limit)
