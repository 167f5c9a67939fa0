"""Outcome labels of ended port-outs, audited like decisions (a ReviewAction per label)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction

from portouts.choices import OutcomeLabel, PortOutStatus, ReviewActionKind
from portouts.metrics.facts import facts_labelled
from portouts.models import PortOut, PortOutOutcome
from portouts.review.audit import review_action_finish, review_action_start


@dataclass(frozen=True)
class LabelResult:
    ok: bool
    message: str


def portout_label(*, user: Any, portout_id: str, label: str, note: str = "") -> LabelResult:
    """Label how an ended port-out turned out; a pending one cannot be labelled yet."""
    if label not in OutcomeLabel.values:
        return LabelResult(False, "Choose one of the outcomes listed.")
    portout = PortOut.objects.filter(id=portout_id).only("id", "status").first()
    if portout is None:
        return LabelResult(False, "This port-out is not in the dashboard.")
    if portout.status == PortOutStatus.PENDING:
        return LabelResult(False, "A pending port-out has no outcome yet: decide it first.")
    with transaction.atomic():
        action, _ = review_action_start(
            user=user,
            kind=ReviewActionKind.LABEL,
            portout_id=portout_id,
            inputs={"label": label, "reason": note},
        )
        PortOutOutcome.objects.update_or_create(
            portout=portout, defaults={"label": label, "note": note, "labelled_by": user}
        )
        facts_labelled(portout_id, label)
        review_action_finish(action, ok=True, response={"label": label})
    return LabelResult(True, f"Labelled {OutcomeLabel(label).label.lower()}.")
