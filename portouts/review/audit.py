"""The audit trail of what people do through the dashboard: ReviewAction rows.

Every action that changes something in Telnyx (decisions, comments, uploads, event
republishes) writes its row *before* the call, so an attempt is never lost even if the
request dies half-way, and completes it with Telnyx's answer or error. A form's idempotency
key is stored unique on the row: a double submit makes one API call and the second request
gets the recorded result (`review_action_replay`). Rows left "started" are settled by
`portouts.review.reconcile`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from portouts.models import PortOut, ReviewAction
from portouts.telnyx import APIConnectionError, APIError, APIStatusError, failure_sentence

#: Said after a failed change whose outcome the failure leaves open.
OUTCOME_OPEN = "Telnyx may have applied it anyway: check what it shows before sending it again."


@dataclass
class ReviewResult:
    """What a review service did, for the page to show."""

    ok: bool
    message: str
    action: ReviewAction | None = None
    portout: PortOut | None = None
    #: refused before anything was sent to Telnyx (stale status, invalid input)
    refused: bool = False
    #: the idempotency key had been used already; no new call was made
    replayed: bool = False


def portout_name(portout: PortOut | None, portout_id: str) -> str:
    """How messages name a port-out: its support key, else its id."""
    return (portout.support_key if portout else "") or portout_id


def change_failure(exc: APIError) -> str:
    """What a person reads when a comment or upload failed: the failure, and that Telnyx may
    have applied it anyway when the request may have gone through."""
    sentence = failure_sentence(exc)
    return f"{sentence} {OUTCOME_OPEN}" if _outcome_open(exc) else sentence


def _outcome_open(exc: APIError) -> bool:
    """A timeout, a broken connection, a 5xx or an unreadable answer may follow a request
    Telnyx acted on; a refused connection or a 4xx does not."""
    if isinstance(exc, APIConnectionError):
        return not exc.not_sent
    if isinstance(exc, APIStatusError):
        return exc.status_code >= 500
    return True


def review_action_start(
    *,
    user: Any,
    kind: str,
    portout_id: str | None,
    inputs: dict[str, Any],
    idempotency_key: str | None = None,
) -> tuple[ReviewAction, bool]:
    """Write the audit row; (existing row, False) when the idempotency key was used before."""
    key = idempotency_key or None
    if key:
        existing = ReviewAction.objects.filter(idempotency_key=key).first()
        if existing is not None:
            return existing, False
    try:
        with transaction.atomic():
            action = ReviewAction.objects.create(
                portout_id=portout_id,
                user=user,
                kind=kind,
                inputs=inputs,
                idempotency_key=key,
            )
    except IntegrityError:
        # Two submits raced: the other request holds the key and makes the call.
        return ReviewAction.objects.get(idempotency_key=key), False
    return action, True


def review_action_begin(
    *,
    user: Any,
    kind: str,
    portout_id: str,
    inputs: dict[str, Any],
    idempotency_key: str | None,
) -> ReviewAction | ReviewResult:
    """The new audit row of an action, or the recorded result when this form (its
    idempotency key) was sent before: then nothing is to be sent again."""
    action, created = review_action_start(
        user=user, kind=kind, portout_id=portout_id, inputs=inputs, idempotency_key=idempotency_key
    )
    if not created:
        return review_action_replay(action, kind=kind, portout_id=portout_id)
    return action


def review_action_finish(
    action: ReviewAction, *, ok: bool, response: dict[str, Any] | None = None, error: str = ""
) -> None:
    """Complete the row with Telnyx's answer (`response`) or what went wrong (`error`)."""
    action.outcome = ReviewAction.Outcome.SUCCEEDED if ok else ReviewAction.Outcome.FAILED
    action.finished_at = timezone.now()
    action.response = response or {}
    action.error = error
    action.save(update_fields=["outcome", "finished_at", "response", "error"])


def review_action_fail(action: ReviewAction, message: str, **result: Any) -> ReviewResult:
    """Complete the row as failed; the result carries `message` for the page."""
    review_action_finish(action, ok=False, error=message)
    return ReviewResult(ok=False, message=message, action=action, **result)


def review_action_succeed(
    action: ReviewAction,
    message: str,
    response: dict[str, Any],
    portout: PortOut | None = None,
) -> ReviewResult:
    """Complete the row as succeeded, keeping `message` for a replay of the same form."""
    review_action_finish(action, ok=True, response={**response, "_message": message})
    return ReviewResult(ok=True, message=message, action=action, portout=portout)


def review_action_replay(action: ReviewAction, *, kind: str, portout_id: str) -> ReviewResult:
    """What a second submit of the same form gets: the recorded result, no new call."""
    portout = PortOut.objects.filter(id=portout_id).first()
    if action.kind != kind or action.portout_id != portout_id:
        return ReviewResult(
            ok=False,
            message="This form was already used for another action; reload the page.",
            portout=portout,
            refused=True,
        )
    replayed: dict[str, Any] = {"action": action, "portout": portout, "replayed": True}
    if action.outcome == ReviewAction.Outcome.STARTED:
        message = "This request is already being sent to Telnyx; reload in a moment."
        return ReviewResult(ok=False, message=message, **replayed)
    if action.outcome == ReviewAction.Outcome.FAILED:
        return ReviewResult(ok=False, message=action.error, **replayed)
    recorded = action.response.get("_message") if isinstance(action.response, dict) else None
    message = str(recorded or f"{action.get_kind_display()} was already sent to Telnyx.")
    return ReviewResult(ok=True, message=message, **replayed)
