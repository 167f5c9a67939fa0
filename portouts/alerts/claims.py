"""Claims: a reviewer takes a port-out so others see who is on it; a claim expires after
CLAIM_MINUTES and acknowledges the port-out's escalations."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from portouts.alerts.escalation import escalations_stop
from portouts.metrics.facts import facts_claimed
from portouts.models import PortOut, PortOutClaim


class ClaimRefused(Exception):
    """Someone else holds the port-out; the message says who and since when."""


def portout_claim_take(portout_id: str, user: User, *, now: datetime | None = None) -> PortOutClaim:
    """Claim (or renew one's own claim on) a port-out; refused while another's is active."""
    now = now or timezone.now()
    with transaction.atomic():
        portout = PortOut.objects.select_for_update().get(pk=portout_id)
        held = PortOutClaim.objects.filter(portout=portout).select_related("user").first()
        if held and held.user_id != user.pk and held.expires_at > now:
            raise ClaimRefused(
                f"{held.user.get_username()} took this port-out "
                f"{timezone.localtime(held.claimed_at):%H:%M}; it is theirs until they release "
                "it or the claim expires."
            )
        claim, _ = PortOutClaim.objects.update_or_create(
            portout=portout,
            defaults={
                "user": user,
                "claimed_at": now,
                "expires_at": now + timedelta(minutes=settings.CLAIM_MINUTES),
            },
        )
        escalations_stop(portout_id, f"claimed by {user.get_username()}", now=now)
        facts_claimed(portout_id, now)
    return claim


def portout_claim_release(portout_id: str, user: User) -> bool:
    """Release one's own claim (staff may release anyone's)."""
    claims = PortOutClaim.objects.filter(portout_id=portout_id)
    if not getattr(user, "is_staff", False):
        claims = claims.filter(user_id=user.pk)
    deleted, _ = claims.delete()
    return bool(deleted)
