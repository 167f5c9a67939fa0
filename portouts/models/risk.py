"""What the dashboard keeps to judge a port-out's risk: its computed flags and score, the
team's expected port-outs and watch list, the end user's confirmation and the outcome label.

Flags are derived data (`portouts.risk.engine` rewrites them from the cache); the rest is
entered by people.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from portouts.choices import (
    ConfirmationAnswer,
    OutcomeLabel,
    RiskFlagKind,
    RiskSeverity,
    WatchKind,
)
from portouts.models.cache import PortOut
from portouts.models.evidence import Customer, validate_e164
from portouts.models.metrics import PortOutFacts


class RiskAssessment(models.Model):
    """A port-out's risk score and when its flags last changed (the page polls on it)."""

    portout = models.OneToOneField(
        PortOut, on_delete=models.CASCADE, primary_key=True, related_name="risk"
    )
    score = models.SmallIntegerField(default=0, db_index=True)
    digest = models.CharField(max_length=32, help_text="Hash of the flags, to see a change")
    computed_at = models.DateTimeField()
    changed_at = models.DateTimeField(help_text="When the flags last differed")

    def __str__(self) -> str:
        return f"{self.portout_id}: {self.score}"


class RiskFlag(models.Model):
    """One reason a port-out deserves attention (or, for positive flags, trust)."""

    portout = models.ForeignKey(PortOut, on_delete=models.CASCADE, related_name="risk_flags")
    kind = models.CharField(max_length=32, choices=RiskFlagKind.choices)
    severity = models.CharField(max_length=16, choices=RiskSeverity.choices)
    sentence = models.CharField(max_length=500)
    computed_at = models.DateTimeField()
    #: the port-out's facts, joined on the same column (no column of its own): the metrics
    #: count flags by the facts without joining the port-outs
    facts = models.ForeignObject(
        PortOutFacts,
        on_delete=models.DO_NOTHING,
        from_fields=["portout"],
        to_fields=["portout"],
        related_name="+",
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["portout", "kind"], name="risk_flag_unique")]

    def __str__(self) -> str:
        return self.sentence


class ExpectedPortOut(models.Model):
    """A port-out the team expects (a churn ticket): a matching request is marked expected.

    It names numbers, or a customer when the ticket speaks of the customer leaving (a
    request matches when every number it names is that customer's).
    """

    numbers = models.JSONField(
        default=list, blank=True, help_text="E.164 numbers expected to leave"
    )
    customer = models.ForeignKey(
        Customer,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="expected_portouts",
        help_text="Or the customer expected to leave: a request for only its numbers matches",
    )
    gaining_carrier = models.CharField(
        max_length=255,
        blank=True,
        help_text="Optional: only a request to this carrier (name or SPID) matches",
    )
    valid_until = models.DateTimeField(help_text="Requests created after this do not match")
    note = models.TextField(blank=True, help_text="e.g. the churn ticket")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "expected port-out"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        what = ", ".join(self.numbers[:3]) if self.numbers else str(self.customer)
        return f"{what} until {self.valid_until:%Y-%m-%d}"

    def clean(self) -> None:
        if not self.numbers and self.customer_id is None:
            raise ValidationError(
                "Name the numbers expected to leave, or the customer expected to leave."
            )
        if not isinstance(self.numbers, list) or not all(isinstance(n, str) for n in self.numbers):
            raise ValidationError(
                {"numbers": 'Write the numbers as a list, e.g. ["+13125550142"].'}
            )
        for number in self.numbers:
            validate_e164(number)


class WatchEntry(models.Model):
    """A SPID, carrier, name or address seen in confirmed fraud: a match raises a flag."""

    kind = models.CharField(max_length=16, choices=WatchKind.choices)
    value = models.CharField(max_length=255)
    note = models.TextField(blank=True)
    source_portout = models.ForeignKey(
        PortOut,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        db_constraint=False,
        related_name="+",
        help_text="The port-out labelled as fraud this entry came from",
    )
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "watch-list entry"
        verbose_name_plural = "watch list"
        ordering = ["kind", "value"]
        constraints = [models.UniqueConstraint(fields=["kind", "value"], name="watch_entry_unique")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.value}"


class ConfirmationRequest(models.Model):
    """An e-mail asking the end user "Did you request this transfer?", with its answer.

    The link carries `token_id` signed; the row makes it single-use and expiring.
    """

    token_id = models.CharField(max_length=64, unique=True)
    portout = models.ForeignKey(
        PortOut, on_delete=models.CASCADE, related_name="confirmation_requests"
    )
    email = models.EmailField()
    sent_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    sent_at = models.DateTimeField(auto_now_add=True)
    answer_by = models.DateTimeField(help_text="No answer by then is shown (and flagged)")
    expires_at = models.DateTimeField(help_text="The port-out's deadline: the link dies then")
    answer = models.CharField(max_length=8, choices=ConfirmationAnswer.choices, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    idempotency_key = models.CharField(
        max_length=64, unique=True, null=True, blank=True, help_text="The send form's key"
    )

    class Meta:
        ordering = ["-sent_at"]
        indexes = [
            models.Index(
                fields=["answer_by"],
                name="confirmation_unanswered",
                condition=models.Q(answered_at__isnull=True),
            )
        ]

    def __str__(self) -> str:
        return f"{self.portout_id} → {self.email} ({self.answer or 'no answer'})"


class PortOutOutcome(models.Model):
    """How an ended port-out turned out (the latest label; each one is audited)."""

    portout = models.OneToOneField(
        PortOut, on_delete=models.CASCADE, primary_key=True, related_name="outcome"
    )
    label = models.CharField(max_length=16, choices=OutcomeLabel.choices)
    note = models.TextField(blank=True)
    labelled_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    labelled_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.portout_id}: {self.get_label_display()}"
