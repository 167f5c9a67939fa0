"""The two-person rule (setting `TWO_PERSON_RULE`): a rejection is prepared by one reviewer
and sent to Telnyx only once a second, different reviewer approves it.

Preparing stores a PendingDecision (code, reason and a snapshot of the numbers, FOC date
and status the preparer saw) and calls no Telnyx. Approving compares the snapshot with the
cache, then sends through the ordinary reject flow (`decisions.portout_reject`), which
re-reads the port-out from Telnyx and refuses to send when that read differs from the
snapshot: a change in Telnyx voids the approval. Each approval try has one idempotency key
shared by everyone, so two reviewers approving at once send one rejection. Preparing,
withdrawing and the send each write a ReviewAction, so both people are in the audit trail.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from portouts import urgency
from portouts.choices import LIST_FIELDS, EventType, PendingDecisionState
from portouts.models import PendingDecision, PortOut, PortOutEvent, PortOutStatus, ReviewAction
from portouts.review import decisions, rules
from portouts.review.audit import (
    ReviewResult,
    portout_name,
    review_action_begin,
    review_action_fail,
    review_action_succeed,
)
from portouts.telnyx import TelnyxClient

WAITING = PendingDecisionState.WAITING


def rejection_prepare(
    *,
    user: Any,
    portout_id: str,
    rejection_code: int,
    reason: str,
    idempotency_key: str | None = None,
    codes: rules.EligibleCodes | None = None,
) -> ReviewResult:
    """Prepare a rejection for a second reviewer, from the cache only (nothing is sent)."""
    number, reason = int(rejection_code), reason.strip()
    action = review_action_begin(
        user=user,
        kind=ReviewAction.Kind.PREPARE,
        portout_id=portout_id,
        inputs={"rejection_code": number, "reason": reason},
        idempotency_key=idempotency_key,
    )
    if isinstance(action, ReviewResult):
        return action
    portout = PortOut.objects.filter(id=portout_id).first()
    problem = _prepare_problem(portout, portout_id, number, reason, codes)
    if problem or portout is None:
        return review_action_fail(action, problem, portout=portout, refused=True)
    try:
        with transaction.atomic():
            pending = PendingDecision.objects.create(
                portout=portout,
                rejection_code=number,
                reason=reason,
                snapshot=rules.portout_snapshot(portout),
                prepared_by=user,
            )
    except IntegrityError:
        message = (
            f"A rejection of {portout_name(portout, portout_id)} is already waiting for a "
            "second reviewer: approve or withdraw it first. Nothing was prepared."
        )
        return review_action_fail(action, message, portout=portout, refused=True)
    message = (
        f"Rejection of {portout_name(portout, portout_id)} with code {number} prepared. "
        "Nothing is sent to Telnyx until a second reviewer approves it."
    )
    return review_action_succeed(action, message, {"pending_decision": pending.pk}, portout)


def _prepare_problem(
    portout: PortOut | None,
    portout_id: str,
    number: int,
    reason: str,
    codes: rules.EligibleCodes | None,
) -> str:
    """Why this rejection cannot be prepared ("" when it can), by the reject flow's rules."""
    if portout is None:
        return "This port-out is not in the dashboard's cache. Nothing was prepared."
    if portout.status != PortOutStatus.PENDING:
        return f"{portout_name(portout, portout_id)} is no longer pending. Nothing was prepared."
    eligible = codes if codes is not None else rules.eligible_codes(portout_id=portout_id)
    code = eligible.get(number)
    if code is None:
        return f"Telnyx does not accept code {number} for this port-out. Nothing was prepared."
    problem = rules.reason_problem(code, reason)
    return f"{problem} Nothing was prepared." if problem else ""


def rejection_approve(
    *, user: Any, portout_id: str, pending_id: int, client: TelnyxClient | None = None
) -> ReviewResult:
    """Send a prepared rejection to Telnyx, as a second, different reviewer."""
    pending = _waiting(portout_id, pending_id)
    if isinstance(pending, ReviewResult):
        return pending
    portout = PortOut.objects.filter(id=portout_id).first()
    if pending.prepared_by_id == user.pk:
        message = (
            "You prepared this rejection: a second, different reviewer must approve it. "
            "Nothing was sent."
        )
        return ReviewResult(ok=False, message=message, portout=portout, refused=True)
    changes = rules.snapshot_changes(pending.snapshot, portout) if portout else ["port-out"]
    changes = list(dict.fromkeys([*changes, *_changed_since(pending)]))
    # Another reviewer's approval of this try may be under way or done (and have moved the
    # cache): then the reject flow replays its recorded result instead of voiding it.
    tried = ReviewAction.objects.filter(idempotency_key=pending.approval_key()).exists()
    if changes and not tried:
        message = rules.changed_sentence(changes)
        _close(pending, PendingDecisionState.VOID, message)
        return ReviewResult(ok=False, message=message, portout=portout, refused=True)
    result = decisions.portout_reject(
        user=user,
        portout_id=portout_id,
        rejection_code=pending.rejection_code,
        reason=pending.reason,
        idempotency_key=pending.approval_key(),
        client=client,
        prepared={
            "prepared_by": pending.prepared_by.get_username(),
            "pending_decision": pending.pk,
            "snapshot": pending.snapshot,
        },
    )
    return _settle(pending, user, result)


def _settle(pending: PendingDecision, user: Any, result: ReviewResult) -> ReviewResult:
    """Record what the send did: sent, void (Telnyx shows a change), or still waiting for
    another try (a failure that left the port-out as prepared)."""
    if result.ok:  # the approver is whoever made the call (a replay names the first)
        sender = result.action.user if result.action else user
        _close(pending, PendingDecisionState.SENT, "", by=sender, action=result.action)
        return result
    if result.replayed:  # another request made this try: it settles the decision
        return result
    changes = rules.snapshot_changes(pending.snapshot, result.portout) if result.portout else []
    if changes:
        _close(pending, PendingDecisionState.VOID, result.message)
        result.message = f"{result.message} The prepared rejection is void."
    else:
        PendingDecision.objects.filter(pk=pending.pk, attempts=pending.attempts).update(
            attempts=F("attempts") + 1, updated_at=timezone.now()
        )
    return result


#: Events that say Telnyx changed what a prepared rejection was decided on.
CHANGE_EVENTS: dict[str, str] = {
    EventType.STATUS_CHANGED.value: "status",
    EventType.FOC_DATE_CHANGED.value: "FOC date",
}


def _changed_since(pending: PendingDecision) -> list[str]:
    """Changes Telnyx reported after the rejection was prepared, even undone ones (pending,
    rejected, pending again), which the snapshot alone would not show."""
    kinds = (
        PortOutEvent.objects.filter(
            portout_id=pending.portout_id,
            event_type__in=list(CHANGE_EVENTS),
            created_at__gt=pending.prepared_at,
        )
        .values_list("event_type", flat=True)
        .distinct()
    )
    return sorted(CHANGE_EVENTS[kind] for kind in kinds)


def rejection_withdraw(*, user: Any, portout_id: str, pending_id: int) -> ReviewResult:
    """Withdraw a prepared rejection (its preparer, or a reviewer who disagrees)."""
    pending = _waiting(portout_id, pending_id)
    if isinstance(pending, ReviewResult):
        return pending
    action = review_action_begin(
        user=user,
        kind=ReviewAction.Kind.WITHDRAW,
        portout_id=portout_id,
        inputs={
            "pending_decision": pending.pk,
            "prepared_by": pending.prepared_by.get_username(),
            "rejection_code": pending.rejection_code,
        },
        idempotency_key=None,
    )
    assert isinstance(action, ReviewAction)  # no idempotency key: always a new row
    portout = PortOut.objects.filter(id=portout_id).first()
    if not _close(pending, PendingDecisionState.WITHDRAWN, "", by=user):
        message = "This rejection was approved or withdrawn meanwhile; reload the page."
        return review_action_fail(action, message, portout=portout, refused=True)
    message = "The prepared rejection was withdrawn. Nothing was sent to Telnyx."
    return review_action_succeed(action, message, {"pending_decision": pending.pk}, portout)


def _waiting(portout_id: str, pending_id: int) -> PendingDecision | ReviewResult:
    pending = (
        PendingDecision.objects.select_related("prepared_by")
        .filter(pk=pending_id, portout_id=portout_id)
        .first()
    )
    if pending is not None and pending.state == WAITING:
        return pending
    if pending is None:
        message = "There is no such prepared rejection on this port-out."
    else:
        message = f"This rejection is no longer waiting: {pending.get_state_display().lower()}."
    portout = PortOut.objects.filter(id=portout_id).first()
    return ReviewResult(ok=False, message=message, portout=portout, refused=True)


def _close(
    pending: PendingDecision,
    state: str,
    reason: str,
    *,
    by: Any = None,
    action: ReviewAction | None = None,
) -> bool:
    """Move a waiting decision to its end state once (False when another request did)."""
    return bool(
        PendingDecision.objects.filter(pk=pending.pk, state=WAITING).update(
            state=state,
            closed_reason=reason,
            closed_at=timezone.now(),
            approved_by=by,
            sent_action=action,
            updated_at=timezone.now(),
        )
    )


# -- what pages read ---------------------------------------------------------------------------


def waiting_decision(*, portout_id: str) -> PendingDecision | None:
    """The rejection of this port-out waiting for a second reviewer, if any (one query)."""
    return (
        PendingDecision.objects.select_related("prepared_by")
        .filter(portout_id=portout_id, state=WAITING)
        .first()
    )


@dataclass(frozen=True)
class WaitingRow:
    """One line of the queue's "waiting for a second reviewer" section."""

    portout: PortOut
    deadline: urgency.Deadline
    rejection_code: int
    prepared_by: str
    prepared_at: datetime


def waiting_for_second_reviewer() -> list[WaitingRow]:
    """Prepared rejections of pending port-outs, most urgent first, in one query."""
    now = timezone.now()
    rows = (
        PendingDecision.objects.filter(state=WAITING, portout__status=PortOutStatus.PENDING)
        .select_related("portout", "prepared_by")
        .only(
            "rejection_code",
            "prepared_at",
            "portout",
            "prepared_by__username",
            *(f"portout__{f}" for f in LIST_FIELDS),
        )
        .order_by(F("portout__created_at").asc(nulls_last=True), "prepared_at")
    )
    return [
        WaitingRow(
            portout=r.portout,
            deadline=urgency.deadline_for(r.portout, now=now),
            rejection_code=r.rejection_code,
            prepared_by=r.prepared_by.get_username(),
            prepared_at=r.prepared_at,
        )
        for r in rows
    ]
