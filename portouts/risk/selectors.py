"""What pages read about risk, as plain data: a port-out's flags, score, confirmation and
outcome; its confirmation entries for the timeline; the queue's risk ordering."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from django.db.models import Expression, F, Max, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from portouts.choices import (
    CONFIRMATION_ANSWER_WITHIN_HOURS,
    SEVERITY_RANK,
    ConfirmationAnswer,
    OutcomeLabel,
    PortOutStatus,
    RiskFlagKind,
    RiskSeverity,
)
from portouts.models import ConfirmationRequest, PortOut, PortOutOutcome, RiskAssessment, RiskFlag
from portouts.risk.formatting import last_digits, local_time, mask_email
from portouts.versions import per_portout


def with_risk(queryset: QuerySet[PortOut]) -> QuerySet[PortOut]:
    """Port-outs annotated with `risk_score` (0 when not assessed yet), by one join."""
    return queryset.annotate(risk_score=Coalesce(F("risk__score"), Value(0)))


def by_risk_within(
    queryset: QuerySet[PortOut], section: Expression, *then: Any
) -> QuerySet[PortOut]:
    """Order by `section` (e.g. overdue, due soon, later), riskiest first within each,
    then by `then`."""
    ordered = with_risk(queryset).annotate(section=section)
    return ordered.order_by("section", "-risk_score", *then)  # type: ignore[misc]


def risk_flags(*, portout_id: str) -> list[dict[str, Any]]:
    """A port-out's flags, most severe first, positive ones last."""
    flags: list[dict[str, Any]] = [
        {
            "kind": f.kind,
            "label": RiskFlagKind(f.kind).label if f.kind in RiskFlagKind.values else f.kind,
            "severity": f.severity,
            "severity_label": RiskSeverity(f.severity).label,
            "positive": f.severity == RiskSeverity.POSITIVE,
            "sentence": f.sentence,
        }
        for f in RiskFlag.objects.filter(portout_id=portout_id)
    ]
    flags.sort(key=lambda f: (SEVERITY_RANK.get(str(f["severity"]), 9), str(f["kind"])))
    return flags


def _confirmation(request: ConfirmationRequest | None, now: datetime) -> dict[str, Any] | None:
    if request is None:
        return None
    overdue = not request.answer and now >= request.answer_by
    return {
        "email": mask_email(request.email),
        "sent_at": request.sent_at,
        "answer": request.answer,
        "answer_label": ConfirmationAnswer(request.answer).label if request.answer else "",
        "answered_at": request.answered_at,
        "answer_by": local_time(request.answer_by),
        "overdue": overdue,
        "expires": local_time(request.expires_at),
    }


def risk_panel(*, portout: PortOut) -> dict[str, Any]:
    """Everything the risk, confirmation and outcome includes show for one port-out."""
    now = timezone.now()
    # One row each (read with the port-out when it was selected with them).
    assessment: RiskAssessment | None = getattr(portout, "risk", None)
    outcome: PortOutOutcome | None = getattr(portout, "outcome", None)
    latest = max(portout.confirmation_requests.all(), key=lambda r: r.sent_at, default=None)
    return {
        "assessed": assessment is not None,
        "score": assessment.score if assessment else 0,
        "flags": risk_flags(portout_id=portout.id) if assessment else [],
        "confirmation": _confirmation(latest, now),
        "can_confirm": portout.status == PortOutStatus.PENDING,
        "answer_within_hours": CONFIRMATION_ANSWER_WITHIN_HOURS,
        "idempotency_key": uuid.uuid4().hex,
        "can_label": portout.status != PortOutStatus.PENDING,
        "outcome": outcome.label if outcome else "",
        "outcome_label": outcome.get_label_display() if outcome else "",
        "outcome_choices": OutcomeLabel.choices,
        "is_fraud": bool(outcome and outcome.label == OutcomeLabel.FRAUD),
    }


def risk_version_parts() -> dict[str, Subquery]:
    """Part of the port-out page's polling token: when its flags last changed (a column of
    the token's one query, `portouts.versions.per_portout`)."""
    return {"v_risk": per_portout(RiskAssessment, Max("changed_at"))}


def confirmation_timeline(*, portout: PortOut, now: datetime | None = None) -> list[dict[str, Any]]:
    """The confirmation requests of a port-out as timeline entries (plain data): sent,
    answered, or "no answer by <time>" once that time has passed."""
    now = now or timezone.now()
    items: list[dict[str, Any]] = []
    for r in portout.confirmation_requests.all():
        who = mask_email(r.email)
        items.append(
            {
                "at": r.sent_at,
                "title": "Confirmation request sent",
                "body": f"To {who}; answer wanted by {local_time(r.answer_by)}.",
                "actor": r.sent_by.get_username(),
            }
        )
        if r.answered_at:
            said = "Yes: they requested it" if r.answer == ConfirmationAnswer.YES else "No"
            items.append({"at": r.answered_at, "title": f"End user answered {said}", "actor": who})
        elif now >= r.answer_by:
            items.append(
                {
                    "at": r.answer_by,
                    "title": f"No answer by {local_time(r.answer_by)}",
                    "actor": who,
                }
            )
    return items


def public_summary(*, portout: PortOut) -> dict[str, Any]:
    """The only facts the end user's answer page shows: carrier, last digits, date."""
    return {
        "carrier": portout.carrier_name or "another carrier",
        "numbers": [last_digits(n) for n in (portout.phone_numbers or [])[:20]],
        "more": max(0, len(portout.phone_numbers or []) - 20),
        "date": portout.created_at,
    }
