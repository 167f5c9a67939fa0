"""What the metrics read: one row of derived facts per port-out, kept by the sync, and the
weekly summary's settings."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models

from portouts.choices import DecidedVia, DecisionOutcome, OutcomeLabel
from portouts.models.cache import PortOut


class PortOutFacts(models.Model):
    """How one port-out's review went, derived from the cache by `metrics.facts`.

    Stored so the metrics page aggregates one narrow table in the database instead of
    replaying events on every view; `computed_at` tells the sync which rows are behind.
    The gaining carrier and the outcome label are copies (of the port-out and of its
    `PortOutOutcome`), so the carriers and flags tables join nothing else; the refresh
    copies both and the labelling service updates the label in its transaction.
    """

    portout = models.OneToOneField(
        PortOut, on_delete=models.CASCADE, primary_key=True, related_name="facts"
    )
    pending_at = models.DateTimeField(
        null=True, blank=True, help_text="When it became pending (again, after a bounce-back)"
    )
    window_ends_at = models.DateTimeField(
        null=True, blank=True, help_text="When Telnyx authorizes it without an answer"
    )
    outcome = models.CharField(max_length=16, choices=DecisionOutcome.choices, blank=True)
    decided_via = models.CharField(max_length=16, choices=DecidedVia.choices, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The reviewer, when decided in the dashboard",
    )
    decision_seconds = models.PositiveIntegerField(
        null=True, blank=True, help_text="From pending to a person's decision"
    )
    rejection = models.CharField(
        max_length=255, blank=True, help_text="Our rejection's code, or the reason Telnyx gave"
    )
    bounce_count = models.PositiveSmallIntegerField(default=0)
    bounced_back_at = models.DateTimeField(null=True, blank=True, help_text="The last one")
    foc_changes = models.PositiveSmallIntegerField(default=0)
    first_alert_at = models.DateTimeField(
        null=True, blank=True, help_text="The first alert the team was sent about it"
    )
    first_claimed_at = models.DateTimeField(
        null=True, blank=True, help_text="When a reviewer first took it (set by the claim)"
    )
    alert_to_claim_seconds = models.PositiveIntegerField(
        null=True, blank=True, help_text="From the first alert to the first claim after it"
    )
    carrier_name = models.CharField(max_length=255, blank=True, help_text="The gaining carrier")
    spid = models.CharField(max_length=64, blank=True, help_text="The gaining carrier's SPID")
    outcome_label = models.CharField(
        max_length=16, choices=OutcomeLabel.choices, blank=True, help_text="How it turned out"
    )
    computed_at = models.DateTimeField()

    class Meta:
        verbose_name = "port-out facts"
        verbose_name_plural = "port-out facts"
        indexes = [
            models.Index(fields=["decided_at", "outcome"], name="facts_decided"),
            # covers the carriers and the flags tables: an index-only scan of the period
            # (key columns, not INCLUDE, so SQLite reads them from the index too)
            models.Index(
                fields=["pending_at", "carrier_name", "spid", "outcome_label"],
                name="facts_pending",
            ),
            models.Index(fields=["bounced_back_at"], name="facts_bounced"),
            # with the three above, the headline's four ranges are index scans
            models.Index(fields=["first_alert_at"], name="facts_alerted"),
        ]

    def __str__(self) -> str:
        return f"{self.portout_id}: {self.outcome or 'undecided'}"


class WeeklySummarySettings(models.Model):
    """The weekly summary e-mail: on or off, and which group receives it (one row)."""

    enabled = models.BooleanField(default=False)
    group = models.ForeignKey(
        Group,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        help_text="Every active member with an e-mail address receives it",
    )
    last_sent_week = models.DateField(
        null=True, blank=True, help_text="Monday of the last week summarised and sent"
    )

    class Meta:
        verbose_name = "weekly summary settings"
        verbose_name_plural = "weekly summary settings"

    def __str__(self) -> str:
        return "Weekly summary" + ("" if self.enabled else " (off)")

    @classmethod
    def load(cls) -> WeeklySummarySettings:
        return cls.objects.get_or_create(pk=1)[0]
