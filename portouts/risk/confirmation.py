"""The end user's own answer: a signed, single-use link e-mailed to their contact.

The link carries `{"t": token id, "p": port-out id}` signed with Django's signing under a
salt used for nothing else. The ConfirmationRequest row holding the random token id makes
it single-use (the answer is stored by a conditional UPDATE, so two answers racing store
one) and expiring (at the port-out's deadline). An unknown token and a tampered one get
the same answer, so the page cannot be used to find port-outs.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from smtplib import SMTPException
from typing import Any

from django.core import signing
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from portouts.alerts.evaluate import alert_end_user_no
from portouts.choices import ConfirmationAnswer, PortOutStatus, RiskFlagKind
from portouts.models import ConfirmationRequest, PortOut
from portouts.risk.engine import risk_assess
from portouts.risk.formatting import local_time, mask_email
from portouts.selectors import deadline_for

logger = logging.getLogger("portouts.risk")

SALT = "portouts.risk.confirmation-link"
#: what the answer page may say about a link that cannot be used
INVALID, EXPIRED, USED = "invalid", "expired", "used"
#: how far back the beat looks for unanswered confirmations (a newer answered request can
#: keep an old one from ever being flagged; it is not looked at forever)
DUE_LOOKBACK = timedelta(days=1)


@dataclass(frozen=True)
class SendResult:
    ok: bool
    message: str
    request: ConfirmationRequest | None = None


def confirmation_token(request: ConfirmationRequest) -> str:
    return signing.dumps({"t": request.token_id, "p": request.portout_id}, salt=SALT)


def confirmation_send(
    *,
    user: Any,
    portout_id: str,
    email: str,
    answer_within: timedelta,
    base_url: str,
    idempotency_key: str = "",
) -> SendResult:
    """E-mail the end user a link asking whether they requested this transfer.

    Refused once the port-out is no longer pending or its deadline has passed. The row is
    written first and removed if the mail server refuses the message, so no link exists
    that was never sent; a second submit of the same form (its idempotency key) sends
    nothing.
    """
    key = idempotency_key or None
    if key and ConfirmationRequest.objects.filter(idempotency_key=key).exists():
        return SendResult(True, "This confirmation request was already sent.")
    portout = PortOut.objects.filter(id=portout_id).defer("raw").first()
    if portout is None or portout.status != PortOutStatus.PENDING:
        return SendResult(False, "Only a pending port-out can be confirmed with the end user.")
    now = timezone.now()
    due_at = deadline_for(portout, now=now).due_at
    if due_at is None or due_at <= now:
        return SendResult(False, "The response window has ended: a link would expire at once.")
    try:
        with transaction.atomic():
            request = ConfirmationRequest.objects.create(
                token_id=secrets.token_urlsafe(24),
                portout=portout,
                email=email,
                sent_by=user,
                answer_by=min(now + answer_within, due_at),
                expires_at=due_at,
                idempotency_key=key,
            )
    except IntegrityError:  # the same form, submitted twice at once: the other one sends
        return SendResult(True, "This confirmation request was already sent.")
    link = base_url.rstrip("/") + reverse(
        "portouts:confirmation_answer", args=[confirmation_token(request)]
    )
    body = render_to_string(
        "portouts/confirmation_email.txt",
        {"link": link, "carrier": portout.carrier_name, "expires": local_time(due_at)},
    )
    try:
        send_mail("Did you request a transfer of your phone numbers?", body, None, [email])
    except (SMTPException, OSError) as exc:
        logger.warning("Confirmation e-mail for %s not sent: %s", portout_id, type(exc).__name__)
        request.delete()
        return SendResult(False, "The mail server did not accept the e-mail; nothing was sent.")
    risk_assess(portout_ids=[portout_id])
    return SendResult(True, f"Confirmation request sent to {mask_email(email)}.", request)


@dataclass(frozen=True)
class LinkState:
    """A link as the answer page sees it: usable (`request`), or why not (`problem`)."""

    request: ConfirmationRequest | None
    problem: str = ""


def confirmation_open(token: str, *, now: datetime | None = None) -> LinkState:
    """Read a link without recording anything."""
    try:
        data = signing.loads(token, salt=SALT)
        token_id, portout_id = str(data["t"]), str(data["p"])
    except (signing.BadSignature, KeyError, TypeError):
        return LinkState(None, INVALID)
    request = (
        ConfirmationRequest.objects.select_related("portout")
        .filter(token_id=token_id, portout_id=portout_id)
        .first()
    )
    if request is None:
        return LinkState(None, INVALID)
    if request.answered_at is not None:
        return LinkState(None, USED)
    if (now or timezone.now()) >= request.expires_at:
        return LinkState(None, EXPIRED)
    return LinkState(request)


def confirmation_answer(token: str, *, answer: str) -> LinkState:
    """Record the end user's Yes or No once, then reassess the port-out's flags."""
    if answer not in ConfirmationAnswer.values:
        raise ValueError("answer must be yes or no")
    now = timezone.now()
    state = confirmation_open(token, now=now)
    if state.request is None:
        return state
    request = state.request
    with transaction.atomic():
        stored = ConfirmationRequest.objects.filter(
            pk=request.pk, answered_at__isnull=True, expires_at__gt=now
        ).update(answer=answer, answered_at=now)
        if not stored:  # answered (or expired) between the read and the write
            return LinkState(None, USED)
        if answer == ConfirmationAnswer.NO:
            occasion = f"confirmation-no:{request.pk}"
            alert_end_user_no(request.portout, occasion=occasion, answered_at=now)
    risk_assess(portout_ids=[state.request.portout_id], now=now)
    return state


def confirmations_due(*, now: datetime | None = None) -> int:
    """Reassess port-outs whose confirmation went unanswered past its time (beat), so the
    "no answer" flag appears when the time passes, not at the next sync."""
    now = now or timezone.now()
    ids = (
        ConfirmationRequest.objects.filter(
            answered_at__isnull=True, answer_by__lte=now, answer_by__gt=now - DUE_LOOKBACK
        )
        .exclude(portout__risk_flags__kind=RiskFlagKind.NO_ANSWER)
        .values_list("portout_id", flat=True)
        .distinct()
    )
    return risk_assess(portout_ids=list(ids), now=now)
