"""What the Sync page and every page's footer read about sync runs (from the database only).

One selector (`sync_last`) says when the cache was last synced, for the footer and the page
alike; the history folds runs that changed nothing into one line, so a morning of quiet
incremental runs does not push the last real change off the table.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from portouts.models import SyncRun

SYNC_KINDS = (SyncRun.Kind.FULL, SyncRun.Kind.INCREMENTAL)
#: Counts that mean a run changed the cache (or owes a retry).
CHANGE_COUNTS = ("created", "updated", "vanished", "still_to_retry", "details_stale")
#: Quiet runs in a row folded into one line from this many on.
FOLD_FROM = 2


@dataclass(frozen=True)
class LastSync:
    #: the latest run that ended (succeeded or failed), by when it ended
    last_run: SyncRun | None
    #: the latest run that succeeded, by when it ended
    last_success: SyncRun | None


def sync_last() -> LastSync:
    """When the cache was last synced and how the last run ended: one query when the last
    run succeeded (every page's footer reads this), two when it failed."""
    ended = (
        SyncRun.objects.filter(kind__in=SYNC_KINDS, finished_at__isnull=False)
        .exclude(status=SyncRun.Status.RUNNING)
        .only("kind", "status", "started_at", "finished_at", "error", "counts")
        .order_by("-finished_at", "-pk")
    )
    last_run = ended.first()
    if last_run is None or last_run.status == SyncRun.Status.SUCCEEDED:
        return LastSync(last_run=last_run, last_success=last_run)
    return LastSync(
        last_run=last_run, last_success=ended.filter(status=SyncRun.Status.SUCCEEDED).first()
    )


def seconds_text(seconds: float) -> str:
    """A run's length as a person reads it: "0.4 s", "4.2 s", "1 min 12 s", "2 h 5 min"."""
    seconds = max(seconds, 0.0)
    if seconds < 10:
        return f"{seconds:.1f} s"
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def run_duration(run: SyncRun, *, now: datetime | None = None) -> str:
    """How long the run took, or has been running."""
    end = run.finished_at or now or timezone.now()
    return seconds_text((end - run.started_at).total_seconds())


@dataclass(frozen=True)
class RunProgress:
    """Where a run is: the stage, port-outs read of how many, listing pages of how many."""

    stage: str
    done: int
    total: int | None
    pages_done: int
    pages_total: int | None
    percent: int


def run_progress(run: SyncRun) -> RunProgress:
    """A running full sync first copies Telnyx's events (pages of events), then reads every
    port-out (port-outs and listing pages); an incremental run reads port-outs only."""
    counts = run.counts or {}
    if run.kind == SyncRun.Kind.FULL and run.progress_total is None:
        done, total = int(counts.get("event_pages", 0)), counts.get("event_pages_total")
        return RunProgress(
            stage="events",
            done=0,
            total=None,
            pages_done=done,
            pages_total=total,
            percent=_percent(done, total) if run.status == SyncRun.Status.RUNNING else 100,
        )
    return RunProgress(
        stage="portouts",
        done=run.progress_done,
        total=run.progress_total,
        pages_done=int(counts.get("pages", 0)),
        pages_total=counts.get("pages_total"),
        percent=run.progress_percent,
    )


def _percent(done: int, total: int | None) -> int:
    return min(100, done * 100 // total) if total else 0


@dataclass(frozen=True)
class HistoryRow:
    """A run of the history table, or (`quiet` > 0) several runs that changed nothing."""

    run: SyncRun
    duration: str
    changes: int
    quiet: int = 0
    #: a folded line: when its first run started and its last one finished
    first_started: datetime | None = None
    last_finished: datetime | None = None


def sync_history(*, limit: int = 200, now: datetime | None = None) -> list[HistoryRow]:
    """The `limit` latest runs, newest first; consecutive incremental runs that succeeded
    without a change are folded into one row ("37 incremental runs without changes")."""
    now = now or timezone.now()
    runs = list(SyncRun.objects.order_by("-started_at", "-pk")[:limit])
    rows: list[HistoryRow] = []
    quiet: list[SyncRun] = []
    for run in [*runs, None]:
        if run is not None and _is_quiet(run):
            quiet.append(run)
            continue
        rows.extend(_fold(quiet, now=now))
        quiet = []
        if run is not None:
            rows.append(
                HistoryRow(run=run, duration=run_duration(run, now=now), changes=_changes(run))
            )
    return rows


def _changes(run: SyncRun) -> int:
    return sum(int((run.counts or {}).get(key, 0)) for key in CHANGE_COUNTS)


def _is_quiet(run: SyncRun) -> bool:
    return (
        run.kind == SyncRun.Kind.INCREMENTAL
        and run.status == SyncRun.Status.SUCCEEDED
        and not run.error
        and _changes(run) == 0
    )


def _fold(runs: list[SyncRun], *, now: datetime) -> list[HistoryRow]:
    """A run of quiet runs (newest first) as one row, or as themselves when too few."""
    if len(runs) < FOLD_FROM:
        return [HistoryRow(run=r, duration=run_duration(r, now=now), changes=0) for r in runs]
    newest, oldest = runs[0], runs[-1]
    return [
        HistoryRow(
            run=newest,
            duration="",
            changes=0,
            quiet=len(runs),
            first_started=oldest.started_at,
            last_finished=newest.finished_at,
        )
    ]
