"""Decisions: authorize or reject a pending port-out in Telnyx, and say what happened.

A decision re-reads the port-out first (Telnyx may have moved on since the page was drawn)
and is refused unless it is still pending. The cache is only updated from what Telnyx
answers, never optimistically. A change request that fails in a way that may come after
Telnyx applied it (a timeout, a broken connection, a 5xx, an unreadable answer, or a 422
"not pending" answering a retry of a request that went through) is followed by one more
read of the port-out, and that read decides what the page says.

What is sent and when a decision is allowed are the rules of `portouts.review.rules`;
`eligible_codes_load` is the one place that asks Telnyx for rejection codes on a person's
behalf.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from portouts import sync
from portouts.choices import status_label
from portouts.interactive import interactive_client, recheck_client
from portouts.metrics.facts import facts_refresh
from portouts.models import PortOut, PortOutStatus, ReviewAction
from portouts.review import rules
from portouts.review.audit import (
    ReviewResult,
    portout_name,
    review_action_begin,
    review_action_fail,
    review_action_succeed,
)
from portouts.telnyx import (
    APIConnectionError,
    APIError,
    APIStatusError,
    AuthenticationError,
    NotFoundError,
    PermissionDeniedError,
    PortoutData,
    TelnyxClient,
    failure_sentence,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Deciding:
    """A decision under way: its audit row, the client and the port-out as Telnyx has it."""

    action: ReviewAction
    api: TelnyxClient
    fresh: PortOut


def portout_authorize(
    *,
    user: Any,
    portout_id: str,
    note: str = "",
    host_messaging: bool = False,
    idempotency_key: str | None = None,
    client: TelnyxClient | None = None,
) -> ReviewResult:
    """Authorize a pending port-out in Telnyx (the API wants a reason even here)."""
    kind = ReviewAction.Kind.AUTHORIZE
    reason = rules.authorize_reason(note, username=user.get_username())
    inputs = {"reason": reason, "host_messaging": bool(host_messaging)}
    deciding = _begin(user, kind, portout_id, inputs, idempotency_key, client)
    if isinstance(deciding, ReviewResult):
        return deciding
    wanted = rules.Wanted(kind, reason)
    try:
        answer = deciding.api.update_portout_status(
            portout_id, status="authorized", reason=reason, host_messaging=bool(host_messaging)
        )
    except APIError as exc:
        return _after_failed_send(deciding, exc, wanted)
    return _decided(deciding.action, answer, wanted)


def portout_reject(
    *,
    user: Any,
    portout_id: str,
    rejection_code: int,
    reason: str = "",
    idempotency_key: str | None = None,
    client: TelnyxClient | None = None,
    codes: rules.EligibleCodes | None = None,
    prepared: dict[str, Any] | None = None,
) -> ReviewResult:
    """Reject a pending port-out with one of its eligible codes.

    Telnyx requires a reason with every rejection: when the code does not ask for one and
    none is given, the code's description is sent. `codes` are the eligible codes this
    request already read (else they are read from the cache); Telnyx is asked for them
    only when the chosen code is not among them. `prepared` is a rejection approved under
    the two-person rule (`prepared_by`, `pending_decision`, `snapshot`): it is recorded
    on the audit row, and nothing is sent if the fresh read differs from the snapshot.
    """
    kind = ReviewAction.Kind.REJECT
    number, reason = int(rejection_code), reason.strip()
    inputs: dict[str, Any] = {"rejection_code": number, "reason": reason}
    if prepared:
        inputs.update({k: v for k, v in prepared.items() if k != "snapshot"})
    deciding = _begin(user, kind, portout_id, inputs, idempotency_key, client)
    if isinstance(deciding, ReviewResult):
        return deciding
    action, api, fresh = deciding.action, deciding.api, deciding.fresh
    changes = rules.snapshot_changes(prepared["snapshot"], fresh) if prepared else []
    if changes:
        message = rules.changed_sentence(changes)
        return review_action_fail(action, message, portout=fresh, refused=True)
    eligible = codes if codes is not None else rules.eligible_codes(portout_id=portout_id)
    code = eligible.get(number)
    if code is None and eligible_codes_load(eligible, client=api):
        code = eligible.get(number)
    if code is None:
        message = eligible.error or (
            f"Telnyx does not accept code {number} for {portout_name(fresh, portout_id)}. "
            "Choose one of the codes listed. Nothing was sent."
        )
        return review_action_fail(action, message, portout=fresh, refused=True)
    problem = rules.reason_problem(code, reason)
    if problem:
        message = f"{problem} Nothing was sent."
        return review_action_fail(action, message, portout=fresh, refused=True)
    sent = rules.reject_reason(reason, code)
    wanted = rules.Wanted(kind, sent, rejection_code=code.code)
    try:
        answer = api.update_portout_status(
            portout_id, status="rejected-pending", reason=sent, rejection_code=code.code
        )
    except APIError as exc:
        return _after_failed_send(deciding, exc, wanted)
    return _decided(action, answer, wanted)


def eligible_codes_load(codes: rules.EligibleCodes, *, client: TelnyxClient | None = None) -> bool:
    """Ask Telnyx for a port-out's eligible codes and store them: only within a decision
    (the reject form's steps, `portout_reject`), never while a page is drawn.

    True when Telnyx answered (`codes` then holds the stored list); else `codes.error` says
    why, for the panel."""
    try:
        fetched = interactive_client(client).list_rejection_codes(codes.portout_id)
    except APIError as exc:
        codes.error = "Rejection codes could not be loaded: " + failure_sentence(exc)
        return False
    sync.store_rejection_codes(codes.portout_id, fetched)
    codes.codes = rules.eligible_codes(portout_id=codes.portout_id).codes
    codes.asked, codes.error = True, ""
    return True


def _begin(
    user: Any,
    kind: str,
    portout_id: str,
    inputs: dict[str, Any],
    idempotency_key: str | None,
    client: TelnyxClient | None,
) -> _Deciding | ReviewResult:
    """Write the audit row and re-read the port-out: Telnyx may have moved on since the page
    was drawn, so a decision is made only on a fresh pending state. A result instead when
    there is nothing to send (a double submit, a failed re-read, no longer pending)."""
    action = review_action_begin(
        user=user, kind=kind, portout_id=portout_id, inputs=inputs, idempotency_key=idempotency_key
    )
    if isinstance(action, ReviewResult):
        return action
    api = interactive_client(client)
    try:
        fresh = sync.store_portout(api.get_portout(portout_id))
    except APIError as exc:
        if isinstance(exc, NotFoundError):
            refreshed = _refresh_quietly(portout_id, api)
        else:
            refreshed = PortOut.objects.filter(id=portout_id).first()
        return review_action_fail(action, failure_sentence(exc), portout=refreshed)
    if fresh.status != PortOutStatus.PENDING:
        message = (
            f"{portout_name(fresh, portout_id)} is no longer pending: Telnyx now reports it as "
            f"“{status_label(fresh.status)}”. Nothing was sent."
        )
        return review_action_fail(action, message, portout=fresh, refused=True)
    return _Deciding(action, api, fresh)


def _refresh_quietly(portout_id: str, client: TelnyxClient) -> PortOut | None:
    """Re-read a port-out after a refused change so the page shows Telnyx's state."""
    try:
        return sync.refresh_portout(portout_id, client=client, details=False)
    except APIError as exc:
        logger.info("Could not refresh port-out %s after a failure: %s", portout_id, exc)
        return PortOut.objects.filter(id=portout_id).first()


def _decided_message(wanted: rules.Wanted, portout: PortOut) -> str:
    name, label = portout_name(portout, portout.id), status_label(portout.status)
    if wanted.kind == ReviewAction.Kind.AUTHORIZE:
        return f"Authorized {name}. Telnyx now reports it as “{label}”."
    return (
        f"Rejected {name} with code {wanted.rejection_code}. Telnyx now reports it as "
        f"“{label}” while its porting team checks the reason."
    )


def _decided(action: ReviewAction, answer: PortoutData, wanted: rules.Wanted) -> ReviewResult:
    portout = sync.store_portout(answer)
    message = _decided_message(wanted, portout)
    result = review_action_succeed(action, message, dict(answer.raw), portout=portout)
    facts_refresh([portout.id])  # the metrics count the decision at once
    return result


def _not_sent(exc: APIError) -> bool:
    """True when Telnyx certainly did not act: no attempt left this process, or Telnyx
    refused the dashboard's key or access (which fails every attempt alike)."""
    if isinstance(exc, APIConnectionError):
        return exc.not_sent
    return isinstance(exc, AuthenticationError | PermissionDeniedError)


def _after_failed_send(deciding: _Deciding, exc: APIError, wanted: rules.Wanted) -> ReviewResult:
    """Word the result of a change request that failed by what Telnyx shows afterwards
    (one more read, no retries)."""
    action, portout_id, what = deciding.action, deciding.fresh.id, failure_sentence(exc)
    if _not_sent(exc):
        return review_action_fail(action, what, portout=deciding.fresh)
    try:
        portout = sync.refresh_portout(
            portout_id, client=recheck_client(deciding.api), details=False
        )
    except NotFoundError as missing:
        cached = PortOut.objects.filter(id=portout_id).first()
        return review_action_fail(action, f"{what} {failure_sentence(missing)}", portout=cached)
    except APIError as check:
        logger.info("Could not re-check port-out %s after a failed change: %s", portout_id, check)
        message = (
            f"{what} The dashboard could not check with Telnyx afterwards either, so it is not "
            "known whether the decision was applied. Check again in a minute (this page "
            "updates by itself) before deciding again."
        )
        cached = PortOut.objects.filter(id=portout_id).first()
        return review_action_fail(action, message, portout=cached)
    if wanted.seen_in(portout):
        message = (
            f"{_decided_message(wanted, portout)} Telnyx accepted the decision "
            "(confirmed on re-check)."
        )
        response = {"status": portout.status, "confirmed_on_recheck": True, "send_error": what}
        return review_action_succeed(action, message, response, portout=portout)
    return review_action_fail(action, f"{what} {_not_seen(exc, portout)}", portout=portout)


def _not_seen(exc: APIError, portout: PortOut) -> str:
    """What the re-check says when Telnyx does not show the decision."""
    if portout.status != PortOutStatus.PENDING:
        label = status_label(portout.status)
        return f"Telnyx now reports it as “{label}”, not as this decision asked."
    if isinstance(exc, APIStatusError):
        return "Telnyx still reports it as pending: the decision was not applied."
    return (
        "Telnyx still reports it as pending, so the decision has not been applied so far; "
        "a request still under way could yet be. Check again in a minute (this page "
        "updates by itself) before deciding again."
    )
