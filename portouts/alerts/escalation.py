"""Escalation of due-soon alerts: when nobody acknowledges one (claims the port-out,
decides it, or it leaves pending) within the next tier's delay, that tier is alerted;
acknowledging stops it."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from portouts.choices import PortOutStatus, RouteRole
from portouts.models import AlertRoute, Escalation, PortOutClaim, ReviewAction

if TYPE_CHECKING:
    from portouts.alerts.recipients import Message

DECISIONS = (ReviewAction.Kind.AUTHORIZE, ReviewAction.Kind.REJECT)


def _tier_route(rule_id: int, tier: int) -> AlertRoute | None:
    return (
        AlertRoute.objects.filter(rule_id=rule_id, role=RouteRole.TIER, position=tier)
        .prefetch_related("users", "channels")
        .first()
    )


def escalation_start(message: Message, now: datetime) -> None:
    """Tier 0 was just alerted: schedule tier 1, if the rule has one (once per occasion)."""
    assert message.portout is not None
    first = _tier_route(message.rule.pk, 1)
    if first is None:
        return
    Escalation.objects.bulk_create(
        [
            Escalation(
                rule=message.rule,
                portout=message.portout,
                occasion=message.occasion,
                started_at=now,
                tier_at=now,
                next_at=now + timedelta(minutes=first.delay_minutes),
            )
        ],
        ignore_conflicts=True,
    )


def acknowledgement(esc: Escalation, now: datetime) -> str:
    """Why the escalation should stop, or "" while nobody has acknowledged it."""
    po = esc.portout
    if po.status != PortOutStatus.PENDING:
        return f"the port-out is {po.status_label.lower()}"
    claim = PortOutClaim.objects.filter(portout=po, expires_at__gt=now).select_related("user")
    if (taken := claim.first()) is not None:
        return f"claimed by {taken.user.get_username()}"
    decided = ReviewAction.objects.filter(
        portout_id=po.pk, kind__in=DECISIONS, created_at__gte=esc.started_at
    ).exclude(outcome=ReviewAction.Outcome.FAILED)
    return "a decision was sent" if decided.exists() else ""


def escalations_stop(portout_id: str, reason: str, *, now: datetime | None = None) -> int:
    return Escalation.objects.filter(portout_id=portout_id, stopped_at=None).update(
        stopped_at=now or timezone.now(), stop_reason=reason[:255], next_at=None
    )


def _advance(esc: Escalation, now: datetime) -> bool:
    from portouts.alerts.evaluate import alert_tier

    reason = acknowledgement(esc, now)
    if reason:
        esc.stopped_at, esc.stop_reason, esc.next_at = now, reason, None
        esc.save(update_fields=["stopped_at", "stop_reason", "next_at"])
        return False
    tier = esc.tier + 1
    route = _tier_route(esc.rule_id, tier)
    if route is not None:
        alert_tier(esc, route, tier, now)
    following = _tier_route(esc.rule_id, tier + 1)
    esc.tier, esc.tier_at = tier, now
    esc.next_at = now + timedelta(minutes=following.delay_minutes) if following else None
    esc.save(update_fields=["tier", "tier_at", "next_at"])
    return route is not None


def escalations_advance(now: datetime) -> int:
    """Beat: every escalation whose next tier is due, in its own transaction."""
    due = Escalation.objects.filter(stopped_at=None, next_at__lte=now).values_list("pk", flat=True)
    advanced = 0
    for pk in list(due):
        with transaction.atomic():
            esc = (
                Escalation.objects.select_for_update()
                .select_related("portout", "rule")
                .filter(pk=pk, stopped_at=None, next_at__lte=now)
                .first()
            )
            if esc is not None and _advance(esc, now):
                advanced += 1
    return advanced
