"""The records the dashboard keeps of its own work: the audit trail, reports and sync runs."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from portouts.choices import ReviewActionKind
from portouts.models.cache import PortOut


class ReviewAction(models.Model):
    """The audit trail: one row per authorize, reject, comment, upload or republish by a person.

    Written before the call to Telnyx and completed with Telnyx's answer or error, so an
    action is never lost even when the request dies half-way.
    """

    Kind = ReviewActionKind

    class Outcome(models.TextChoices):
        STARTED = "started", "Started"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    portout = models.ForeignKey(
        PortOut,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="review_actions",
        null=True,
        blank=True,
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    inputs = models.JSONField(default=dict)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, default=Outcome.STARTED)
    response = models.JSONField(default=dict, blank=True, help_text="Telnyx's answer")
    error = models.TextField(blank=True)
    idempotency_key = models.CharField(max_length=64, unique=True, null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} by {self.user} ({self.outcome})"


class Report(models.Model):
    """A CSV report: a local export from the cache, or a Telnyx report downloaded when ready."""

    class Kind(models.TextChoices):
        LOCAL = "local", "Local export"
        TELNYX = "telnyx", "Telnyx report"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    filters = models.JSONField(default=dict, help_text="The list filters, or Telnyx report filters")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(
        null=True, blank=True, help_text="Last sign of progress; a stale running report has died"
    )
    rows_done = models.PositiveIntegerField(default=0)
    rows_total = models.PositiveIntegerField(null=True, blank=True)
    file = models.FileField(upload_to="reports/", blank=True)
    size = models.PositiveBigIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    telnyx_report_id = models.CharField(max_length=64, blank=True, db_index=True)
    telnyx_document_id = models.CharField(max_length=64, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.created_at:%Y-%m-%d %H:%M} ({self.status})"

    @property
    def progress_percent(self) -> int:
        if self.status == self.Status.COMPLETED:
            return 100
        if not self.rows_total:
            return 0
        return min(100, int(self.rows_done * 100 / self.rows_total))


class SyncRun(models.Model):
    """One run of the sync, with its progress, counts, errors and high-water marks."""

    class Kind(models.TextChoices):
        FULL = "full", "Full"
        INCREMENTAL = "incremental", "Incremental"

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField(auto_now_add=True, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(null=True, blank=True)
    counts = models.JSONField(default=dict, help_text="created, updated, vanished, comments, ...")
    api_requests = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    triggered_by = models.CharField(max_length=64, blank=True, help_text="beat, user name, command")
    inserted_at_high_water = models.DateTimeField(null=True, blank=True)
    event_high_water = models.DateTimeField(null=True, blank=True)
    picked_up_at = models.DateTimeField(
        null=True, blank=True, help_text="When a worker took the run up (empty while queued)"
    )
    reconciling_since = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Full runs: port-outs read in full since then need no second read; a run "
        "that resumes a failed one keeps its value",
    )

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} sync {self.started_at:%Y-%m-%d %H:%M} ({self.status})"

    @property
    def still_to_retry(self) -> int:
        """Port-outs whose reads kept failing, left for the next run, when this one ended."""
        return int(self.counts.get("still_to_retry", 0))

    @property
    def progress_percent(self) -> int:
        if self.status != self.Status.RUNNING:
            return 100
        if not self.progress_total:
            return 0
        return min(100, int(self.progress_done * 100 / self.progress_total))
