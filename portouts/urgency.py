"""Where a pending port-out stands in its response window, written once: its deadline, the
time left, and which part of the window (due soon, in window, past the window) it is in.

Telnyx authorizes a port-out nobody answered by itself, so the queue's sections, the list's
"time left" filter and column, and each port-out's page all ask this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from portouts.choices import TimeLeft
from portouts.models import PortOut


def review_window() -> timedelta:
    return timedelta(hours=settings.REVIEW_WINDOW_HOURS)


def due_soon_window() -> timedelta:
    return timedelta(hours=settings.REVIEW_DUE_SOON_HOURS)


@dataclass(frozen=True)
class Deadline:
    """When Telnyx will authorize a pending port-out by default, and how close that is."""

    due_at: datetime | None
    left: timedelta | None

    @property
    def overdue(self) -> bool:
        return self.left is not None and self.left <= timedelta(0)

    @property
    def due_soon(self) -> bool:
        return self.left is not None and timedelta(0) < self.left <= due_soon_window()

    @property
    def urgency(self) -> str:
        return "overdue" if self.overdue else "due-soon" if self.due_soon else ""

    @property
    def time_left(self) -> TimeLeft:
        """The queue's section; an unknown creation date counts as in the window."""
        if self.overdue:
            return TimeLeft.PAST_WINDOW
        return TimeLeft.DUE_SOON if self.due_soon else TimeLeft.IN_WINDOW


def deadline_for(portout: PortOut, *, now: datetime | None = None) -> Deadline:
    return deadline_at(portout.created_at, now=now)


def deadline_at(created_at: datetime | None, *, now: datetime | None = None) -> Deadline:
    if created_at is None:
        return Deadline(None, None)
    due_at = created_at + review_window()
    return Deadline(due_at, due_at - (now or timezone.now()))


def duration(value: timedelta | None) -> str:
    """A compact, readable length of time: "2 d 3 h", "5 h 10 min", "12 min"."""
    if value is None:
        return ""
    minutes = int(abs(value.total_seconds()) // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {mins} min"
    return f"{mins} min"


def left_text(deadline: Deadline) -> str:
    """The time-left cell: "3 h 10 min left", "Overdue 2 h", "unknown"."""
    if deadline.left is None:
        return "unknown"
    if deadline.overdue:
        return f"Overdue {duration(deadline.left)}"
    return f"{duration(deadline.left)} left"


def time_left_q(bucket: TimeLeft, *, now: datetime | None = None) -> Q:
    """The same rule as `Deadline.time_left`, as a filter on `created_at`."""
    ended = (now or timezone.now()) - review_window()  # created at or before: window ended
    soon = ended + due_soon_window()
    if bucket == TimeLeft.PAST_WINDOW:
        return Q(created_at__lte=ended)
    if bucket == TimeLeft.DUE_SOON:
        return Q(created_at__gt=ended, created_at__lte=soon)
    return Q(created_at__gt=soon) | Q(created_at__isnull=True)
