"""What the team keeps for itself while it works a port-out: internal notes, and rejections
prepared under the two-person rule that wait for a second reviewer.

None of it is ever sent to Telnyx; a prepared rejection reaches Telnyx only through the
ordinary reject flow once another reviewer approves it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from portouts.choices import PendingDecisionState
from portouts.models.cache import PortOut
from portouts.models.records import ReviewAction


class InternalNote(models.Model):
    """A team-only note on a port-out: shown in the timeline marked internal, never sent."""

    portout = models.ForeignKey(
        PortOut, on_delete=models.DO_NOTHING, db_constraint=False, related_name="internal_notes"
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"Internal note by {self.author} on {self.portout_id}"


class PendingDecision(models.Model):
    """A rejection prepared by one reviewer, sent only once a different reviewer approves it.

    `snapshot` is what the preparer saw (numbers, FOC date, status): if Telnyx shows
    anything else at approval time, the approval is void. At most one waits per port-out.
    """

    State = PendingDecisionState

    portout = models.ForeignKey(
        PortOut, on_delete=models.DO_NOTHING, db_constraint=False, related_name="pending_decisions"
    )
    rejection_code = models.PositiveIntegerField()
    reason = models.TextField(blank=True)
    snapshot = models.JSONField(default=dict)
    state = models.CharField(max_length=16, choices=State.choices, default=State.WAITING)
    prepared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    prepared_at = models.DateTimeField(auto_now_add=True, db_index=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        help_text="Who approved it (sent), or who withdrew it",
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_reason = models.TextField(blank=True)
    #: Approvals tried so far; each try has its own idempotency key, so two reviewers
    #: approving at once make one call to Telnyx.
    attempts = models.PositiveIntegerField(default=0)
    sent_action = models.ForeignKey(
        ReviewAction, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        ordering = ["prepared_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["portout"],
                condition=models.Q(state=PendingDecisionState.WAITING),
                name="one_waiting_decision_per_portout",
            )
        ]

    def __str__(self) -> str:
        return f"Rejection of {self.portout_id} by {self.prepared_by} ({self.state})"

    def approval_key(self) -> str:
        """The idempotency key of the current approval try."""
        return f"pending-decision-{self.pk}-{self.attempts}"
