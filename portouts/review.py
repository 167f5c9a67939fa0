"""Review services: authorize, reject, comment and attach documents, with the audit trail.

Each service writes a ReviewAction row *before* calling Telnyx (so an attempt is never
lost, even if the request dies half-way) and completes it with Telnyx's answer or error.
The cache is only ever updated from what Telnyx answers, never optimistically. A form's
idempotency key is stored unique on the row, so a double submit makes one API call and
the second request gets the recorded result.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from portouts import sync
from portouts.models import PortOut, PortOutStatus, RejectionCode, ReviewAction
from portouts.telnyx import (
    MAX_DOCUMENT_BYTES,
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    ConflictError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    TelnyxClient,
    UnprocessableEntityError,
    get_client,
)
from portouts.telnyx.client import SUPPORTING_DOCUMENT_TYPES

logger = logging.getLogger(__name__)

#: What Telnyx accepts as a supporting document, recognised by the first bytes of the file.
DOCUMENT_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
)
DOCUMENT_CONTENT_TYPES = frozenset(content_type for _sig, content_type in DOCUMENT_SIGNATURES)

#: Budget of the Telnyx calls made while a person waits on a page: a web request has to
#: answer before the web server gives up on it (gunicorn: 30 s). At most two attempts of
#: INTERACTIVE_TIMEOUT s per call, at most INTERACTIVE_RETRY_AFTER_CAP s in between, and a
#: single attempt for the re-check after a failure: a decision (re-read, change, re-check)
#: stays near 22 s. Background work (sync, beat tasks) keeps the client's full retries.
INTERACTIVE_TIMEOUT = 4.0
INTERACTIVE_MAX_RETRIES = 1
INTERACTIVE_RETRY_AFTER_CAP = 1.0

#: A review action still "started" after this long belongs to a request that died
#: half-way (worker killed, server timeout); `reconcile_review_actions` settles it.
STALE_AFTER = timedelta(minutes=10)

User = AbstractBaseUser | AnonymousUser


def sniff_document_type(head: bytes) -> str | None:
    """The content type of a file Telnyx accepts, from its first bytes; None for any other."""
    for signature, content_type in DOCUMENT_SIGNATURES:
        if head.startswith(signature):
            return content_type
    return None


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


def describe_api_error(exc: Exception) -> str:
    """A plain-language sentence for a Telnyx failure, fit for the page (no secrets)."""
    ref = ""
    if isinstance(exc, APIStatusError) and exc.request_id:
        ref = f" (Telnyx request id {exc.request_id})"
    detail = ""
    if isinstance(exc, APIStatusError):
        parts = [str(e.get("detail") or e.get("title") or "").strip() for e in exc.errors]
        detail = "; ".join(p.rstrip(".") for p in parts if p)
    if isinstance(exc, AuthenticationError):
        text = (
            "Telnyx did not accept the dashboard's API key (401). An administrator needs to "
            "check the Telnyx API key setting. Nothing was changed."
        )
    elif isinstance(exc, PermissionDeniedError):
        text = (
            "Telnyx refused access (403): this Telnyx account is not allowed to do that. "
            "Nothing was changed."
        )
    elif isinstance(exc, NotFoundError):
        text = "Telnyx could not find this port-out (404); it may have been removed."
    elif isinstance(exc, UnprocessableEntityError):
        text = f"Telnyx refused the request (422): {detail or 'no detail given'}."
    elif isinstance(exc, ConflictError):
        text = "Telnyx reported a conflicting change (409); reload and check the status."
    elif isinstance(exc, RateLimitError):
        text = (
            "Telnyx is receiving too many requests from this account (429). Wait a minute, "
            "then try again. Nothing was changed."
        )
    elif isinstance(exc, InternalServerError):
        text = (
            f"Telnyx had a server error ({exc.status_code}) and did not confirm the change. "
            "Try again in a few minutes."
        )
    elif isinstance(exc, APIStatusError):
        text = f"Telnyx refused the request ({exc.status_code}): {detail or 'no detail given'}."
    elif isinstance(exc, APITimeoutError):
        text = (
            "Telnyx did not answer in time, so the change is not confirmed. Check the status "
            "shown below (it is what Telnyx reports) before trying again."
        )
    elif isinstance(exc, APIConnectionError) and exc.not_sent:
        text = "The dashboard could not reach Telnyx. Nothing was sent; try again shortly."
    elif isinstance(exc, APIConnectionError):
        text = (
            "The connection to Telnyx broke before it answered, so the change is not "
            "confirmed. Check what Telnyx shows before trying again."
        )
    elif isinstance(exc, APIResponseValidationError):
        text = (
            "Telnyx answered, but its answer could not be read, so the change is not "
            "confirmed. Check what Telnyx shows before trying again."
        )
    else:
        text = "Telnyx could not be asked; try again shortly."
    return text + ref


# -- audit trail -------------------------------------------------------------------------


def _start(
    *,
    user: Any,
    kind: str,
    portout_id: str,
    inputs: dict[str, Any],
    idempotency_key: str | None,
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


def _finish(
    action: ReviewAction, *, ok: bool, response: dict[str, Any] | None = None, error: str = ""
) -> None:
    action.outcome = ReviewAction.Outcome.SUCCEEDED if ok else ReviewAction.Outcome.FAILED
    action.finished_at = timezone.now()
    action.response = response or {}
    action.error = error
    action.save(update_fields=["outcome", "finished_at", "response", "error"])


def _fail(action: ReviewAction, message: str, **kwargs: Any) -> ReviewResult:
    _finish(action, ok=False, error=message)
    return ReviewResult(ok=False, message=message, action=action, **kwargs)


def _replayed(action: ReviewAction, *, kind: str, portout_id: str) -> ReviewResult:
    portout = PortOut.objects.filter(id=portout_id).first()
    if action.kind != kind or action.portout_id != portout_id:
        return ReviewResult(
            ok=False,
            message="This form was already used for another action; reload the page.",
            portout=portout,
            refused=True,
        )
    if action.outcome == ReviewAction.Outcome.STARTED:
        message = "This request is already being sent to Telnyx; reload in a moment."
        return ReviewResult(
            ok=False, message=message, action=action, portout=portout, replayed=True
        )
    if action.outcome == ReviewAction.Outcome.FAILED:
        return ReviewResult(
            ok=False, message=action.error, action=action, portout=portout, replayed=True
        )
    recorded = action.response.get("_message") if isinstance(action.response, dict) else None
    return ReviewResult(
        ok=True,
        message=str(recorded or f"{action.get_kind_display()} was already sent to Telnyx."),
        action=action,
        portout=portout,
        replayed=True,
    )


def interactive_client(client: TelnyxClient | None = None) -> TelnyxClient:
    """The shared client (or the one given) with the interactive budget, same connection pool.

    For Telnyx calls made while a person waits on a page."""
    base = client or get_client()
    return base.with_options(
        timeout=min(base.timeout, INTERACTIVE_TIMEOUT),
        max_retries=min(base.max_retries, INTERACTIVE_MAX_RETRIES),
        retry_after_cap=min(base.retry_policy.retry_after_cap, INTERACTIVE_RETRY_AFTER_CAP),
    )


def _name(portout: PortOut | None, portout_id: str) -> str:
    return (portout.support_key if portout else "") or portout_id


def _label(status: str) -> str:
    try:
        return str(PortOutStatus(status).label)
    except ValueError:
        return status


def _refresh_quietly(portout_id: str, client: TelnyxClient) -> PortOut | None:
    """Re-read a port-out after a refused change so the page shows Telnyx's state."""
    try:
        return sync.refresh_portout(portout_id, client=client, details=False)
    except APIError as exc:
        logger.info("Could not refresh port-out %s after a failure: %s", portout_id, exc)
        return PortOut.objects.filter(id=portout_id).first()


@dataclass(frozen=True)
class _Wanted:
    """The state a decision asks for, to recognise it on a re-read of the port-out."""

    statuses: frozenset[str]
    #: None when the reason sent is not known (then only status and code are compared)
    reason: str | None
    rejection_code: int | None = None

    def seen_in(self, portout: PortOut) -> bool:
        """Telnyx shows this decision: the status, and our reason/code where Telnyx reports one
        (another reviewer deciding the same way at the same time is not our success)."""
        if portout.status not in self.statuses:
            return False
        if self.reason is not None and portout.reason and portout.reason != self.reason:
            return False
        return not (
            self.rejection_code is not None
            and portout.rejection_code is not None
            and portout.rejection_code != self.rejection_code
        )


def _send_failure(exc: APIError) -> str:
    """What went wrong with a change request, without claiming whether it was applied."""
    ref = ""
    if isinstance(exc, APIStatusError) and exc.request_id:
        ref = f" (Telnyx request id {exc.request_id})"
    if isinstance(exc, APITimeoutError):
        text = "Telnyx did not answer in time"
    elif isinstance(exc, APIConnectionError):
        text = "The connection to Telnyx broke before it answered"
    elif isinstance(exc, APIResponseValidationError):
        text = "Telnyx answered, but its answer could not be read"
    elif isinstance(exc, RateLimitError):
        text = "Telnyx is receiving too many requests from this account (429)"
    elif isinstance(exc, InternalServerError):
        text = f"Telnyx had a server error ({exc.status_code})"
    else:
        return describe_api_error(exc)
    return f"{text}{ref}."


def _not_sent(exc: APIError) -> bool:
    """True when Telnyx certainly did not act: no attempt left this process, or Telnyx
    refused the dashboard's key or access (which fails every attempt alike)."""
    if isinstance(exc, APIConnectionError):
        return exc.not_sent
    return isinstance(exc, AuthenticationError | PermissionDeniedError)


def _after_failed_send(
    action: ReviewAction,
    exc: APIError,
    *,
    api: TelnyxClient,
    portout_id: str,
    fresh: PortOut,
    wanted: _Wanted,
    success: Callable[[PortOut], str],
) -> ReviewResult:
    """Word the result of a change request that failed by what Telnyx shows afterwards.

    A timeout, a broken connection, a 5xx or an unreadable 2xx may come after Telnyx applied
    the change, and a 422 "not pending" may answer a retry of a request that went through:
    so the port-out is read again (one attempt) and the answer decides what the page says.
    """
    if _not_sent(exc):
        return _fail(action, describe_api_error(exc), portout=fresh)
    what = _send_failure(exc)
    try:
        portout = sync.refresh_portout(
            portout_id, client=api.with_options(max_retries=0), details=False
        )
    except NotFoundError:
        message = f"{what} Telnyx no longer finds this port-out (404); it may have been removed."
        return _fail(action, message, portout=PortOut.objects.filter(id=portout_id).first())
    except APIError as check:
        logger.info("Could not re-check port-out %s after a failed change: %s", portout_id, check)
        message = (
            f"{what} The dashboard could not check with Telnyx afterwards either, so it is not "
            "known whether the decision was applied. Check again in a minute (this page "
            "updates by itself) before deciding again."
        )
        return _fail(action, message, portout=PortOut.objects.filter(id=portout_id).first())
    if wanted.seen_in(portout):
        message = f"{success(portout)} Telnyx accepted the decision (confirmed on re-check)."
        response = {
            "_message": message,
            "status": portout.status,
            "confirmed_on_recheck": True,
            "send_error": what,
        }
        _finish(action, ok=True, response=response)
        return ReviewResult(ok=True, message=message, action=action, portout=portout)
    label = _label(portout.status)
    if portout.status != PortOutStatus.PENDING:
        outcome = f"Telnyx now reports it as “{label}”, not as this decision asked."
    elif isinstance(exc, APIStatusError):
        outcome = "Telnyx still reports it as pending: the decision was not applied."
    else:
        outcome = (
            "Telnyx still reports it as pending, so the decision has not been applied so far; "
            "a request still under way could yet be. Check again in a minute (this page "
            "updates by itself) before deciding again."
        )
    return _fail(action, f"{what} {outcome}", portout=portout)


def _decide(
    *,
    user: Any,
    kind: str,
    portout_id: str,
    inputs: dict[str, Any],
    idempotency_key: str | None,
    client: TelnyxClient | None,
    check: Callable[[PortOut, TelnyxClient], str | None],
    send: Callable[[TelnyxClient], Any],
    wanted: Callable[[], _Wanted],
    success: Callable[[PortOut], str],
) -> ReviewResult:
    action, created = _start(
        user=user, kind=kind, portout_id=portout_id, inputs=inputs, idempotency_key=idempotency_key
    )
    if not created:
        return _replayed(action, kind=kind, portout_id=portout_id)
    api = interactive_client(client)
    # Telnyx may have moved on since the page was drawn: decide only on a fresh pending state.
    try:
        fresh = sync.store_portout(api.get_portout(portout_id))
    except APIError as exc:
        refreshed = PortOut.objects.filter(id=portout_id).first()
        if isinstance(exc, NotFoundError):
            refreshed = _refresh_quietly(portout_id, api)
        return _fail(action, describe_api_error(exc), portout=refreshed)
    if fresh.status != PortOutStatus.PENDING:
        message = (
            f"{_name(fresh, portout_id)} is no longer pending: Telnyx now reports it as "
            f"“{_label(fresh.status)}”. Nothing was sent."
        )
        return _fail(action, message, portout=fresh, refused=True)
    problem = check(fresh, api)
    if problem:
        return _fail(action, problem, portout=fresh, refused=True)
    try:
        answer = send(api)
    except APIError as exc:
        return _after_failed_send(
            action,
            exc,
            api=api,
            portout_id=portout_id,
            fresh=fresh,
            wanted=wanted(),
            success=success,
        )
    portout = sync.store_portout(answer)
    message = success(portout)
    response = dict(answer.raw)
    response["_message"] = message
    _finish(action, ok=True, response=response)
    return ReviewResult(ok=True, message=message, action=action, portout=portout)


# -- services ---------------------------------------------------------------------------


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
    reason = note.strip() or f"Authorized by {user.get_username()}"
    inputs = {"reason": reason, "host_messaging": bool(host_messaging)}
    return _decide(
        user=user,
        kind=ReviewAction.Kind.AUTHORIZE,
        portout_id=portout_id,
        inputs=inputs,
        idempotency_key=idempotency_key,
        client=client,
        check=lambda portout, api: None,
        send=lambda api: api.update_portout_status(
            portout_id, status="authorized", reason=reason, host_messaging=bool(host_messaging)
        ),
        wanted=lambda: _Wanted(frozenset({PortOutStatus.AUTHORIZED.value}), reason),
        success=lambda p: (
            f"Authorized {_name(p, portout_id)}. Telnyx now reports it as “{_label(p.status)}”."
        ),
    )


def load_rejection_codes(
    *, portout_id: str, client: TelnyxClient | None = None, refresh: bool = False
) -> list[RejectionCode]:
    """The codes Telnyx accepts for this port-out, fetched from Telnyx when none are cached."""
    codes = list(RejectionCode.objects.filter(portout_id=portout_id))
    if codes and not refresh:
        return codes
    fetched = interactive_client(client).list_rejection_codes(portout_id)
    sync.store_rejection_codes(portout_id, fetched)
    return list(RejectionCode.objects.filter(portout_id=portout_id))


def portout_reject(
    *,
    user: Any,
    portout_id: str,
    rejection_code: int,
    reason: str = "",
    idempotency_key: str | None = None,
    client: TelnyxClient | None = None,
) -> ReviewResult:
    """Reject a pending port-out with one of its eligible codes.

    Telnyx requires a reason with every rejection: when the code does not ask for one and
    none is given, the code's description is sent.
    """
    reason = reason.strip()
    inputs: dict[str, Any] = {"rejection_code": int(rejection_code), "reason": reason}
    chosen: dict[str, RejectionCode] = {}

    def check(portout: PortOut, api: TelnyxClient) -> str | None:
        codes = {c.code: c for c in load_rejection_codes(portout_id=portout_id, client=api)}
        if int(rejection_code) not in codes:
            codes = {
                c.code: c
                for c in load_rejection_codes(portout_id=portout_id, client=api, refresh=True)
            }
        code = codes.get(int(rejection_code))
        if code is None:
            return (
                f"Telnyx does not accept code {rejection_code} for {_name(portout, portout_id)}. "
                "Choose one of the codes listed. Nothing was sent."
            )
        if code.reason_required and not reason:
            return f"Code {code.code} ({code.description}) requires a reason. Nothing was sent."
        chosen["code"] = code
        return None

    def send(api: TelnyxClient) -> Any:
        code = chosen["code"]
        text = reason or code.description
        return api.update_portout_status(
            portout_id, status="rejected-pending", reason=text, rejection_code=code.code
        )

    def wanted() -> _Wanted:
        code = chosen["code"]
        statuses = frozenset({PortOutStatus.REJECTED_PENDING.value, PortOutStatus.REJECTED.value})
        return _Wanted(statuses, reason or code.description, rejection_code=code.code)

    return _decide(
        user=user,
        kind=ReviewAction.Kind.REJECT,
        portout_id=portout_id,
        inputs=inputs,
        idempotency_key=idempotency_key,
        client=client,
        check=check,
        send=send,
        wanted=wanted,
        success=lambda p: (
            f"Rejected {_name(p, portout_id)} with code {rejection_code}. Telnyx now reports it "
            f"as “{_label(p.status)}” while its porting team checks the reason."
        ),
    )


def portout_comment(
    *,
    user: Any,
    portout_id: str,
    body: str,
    idempotency_key: str | None = None,
    client: TelnyxClient | None = None,
) -> ReviewResult:
    """Post a comment to Telnyx and cache the comment Telnyx returns."""
    body = body.strip()
    if not body:
        return ReviewResult(ok=False, message="Write a comment first.", refused=True)
    action, created = _start(
        user=user,
        kind=ReviewAction.Kind.COMMENT,
        portout_id=portout_id,
        inputs={"body": body},
        idempotency_key=idempotency_key,
    )
    if not created:
        return _replayed(action, kind=ReviewAction.Kind.COMMENT, portout_id=portout_id)
    try:
        comment = interactive_client(client).create_comment(portout_id, body=body)
    except APIError as exc:
        return _fail(action, describe_api_error(exc))
    sync.store_comments(portout_id, [comment])
    response = dict(comment.raw)
    response["_message"] = "Comment posted to Telnyx."
    _finish(action, ok=True, response=response)
    return ReviewResult(ok=True, message="Comment posted to Telnyx.", action=action)


def portout_attach_document(
    *,
    user: Any,
    portout_id: str,
    document_type: str,
    filename: str,
    content: bytes,
    content_type: str,
    idempotency_key: str | None = None,
    client: TelnyxClient | None = None,
) -> ReviewResult:
    """Upload a file to Telnyx Documents and attach it to the port-out as LOA or invoice.

    Both calls happen in the same request: Telnyx deletes documents left unattached.
    """
    if document_type not in SUPPORTING_DOCUMENT_TYPES:
        return ReviewResult(ok=False, message="Choose LOA or invoice.", refused=True)
    if content_type not in DOCUMENT_CONTENT_TYPES:
        return ReviewResult(
            ok=False, message="Only PDF, JPEG, PNG or TIFF files can be attached.", refused=True
        )
    if len(content) > MAX_DOCUMENT_BYTES:
        return ReviewResult(
            ok=False, message="Telnyx accepts documents of at most 20 MB.", refused=True
        )
    if not content:
        return ReviewResult(ok=False, message=f"“{filename}” is empty.", refused=True)
    inputs = {
        "document_type": document_type,
        "filename": filename,
        "content_type": content_type,
        "size": len(content),
        "sha256": hashlib.sha256(content).hexdigest(),
    }
    action, created = _start(
        user=user,
        kind=ReviewAction.Kind.UPLOAD,
        portout_id=portout_id,
        inputs=inputs,
        idempotency_key=idempotency_key,
    )
    if not created:
        return _replayed(action, kind=ReviewAction.Kind.UPLOAD, portout_id=portout_id)
    api = interactive_client(client)
    try:
        document = api.upload_document(
            filename=filename, content=content, content_type=content_type
        )
    except APIError as exc:
        return _fail(action, describe_api_error(exc))
    if not document.id:
        message = f"Telnyx did not return an id for “{filename}”; upload it again."
        _finish(action, ok=False, response={"document": document.raw}, error=message)
        return ReviewResult(ok=False, message=message, action=action)
    try:
        attached = api.create_supporting_documents(
            portout_id, documents=[(document_type, document.id)]
        )
    except APIError as exc:
        message = (
            f"“{filename}” was uploaded but could not be attached: {describe_api_error(exc)} "
            "Telnyx deletes unattached documents after 30 minutes; upload it again."
        )
        _finish(action, ok=False, response={"document": document.raw}, error=message)
        return ReviewResult(ok=False, message=message, action=action)
    sync.store_supporting_documents(portout_id, attached)
    message = f"“{filename}” attached as {'LOA' if document_type == 'loa' else 'invoice'}."
    _finish(
        action,
        ok=True,
        response={
            "document": document.raw,
            "supporting_documents": [d.raw for d in attached],
            "_message": message,
        },
    )
    return ReviewResult(ok=True, message=message, action=action)


# -- reconciliation ---------------------------------------------------------------------


_DECISIONS: dict[str, frozenset[str]] = {
    ReviewAction.Kind.AUTHORIZE.value: frozenset({PortOutStatus.AUTHORIZED.value}),
    ReviewAction.Kind.REJECT.value: frozenset(
        {PortOutStatus.REJECTED_PENDING.value, PortOutStatus.REJECTED.value}
    ),
}
_UNFINISHED = "Outcome unknown: the request did not finish."


def _settle(action: ReviewAction, *, ok: bool, message: str, response: dict[str, Any]) -> bool:
    """Complete a started row unless its own request finished it meanwhile."""
    outcome = ReviewAction.Outcome.SUCCEEDED if ok else ReviewAction.Outcome.FAILED
    return bool(
        ReviewAction.objects.filter(pk=action.pk, outcome=ReviewAction.Outcome.STARTED).update(
            outcome=outcome,
            finished_at=timezone.now(),
            response=response,
            error="" if ok else message,
        )
    )


def _wanted_for(action: ReviewAction) -> _Wanted | None:
    statuses = _DECISIONS.get(action.kind)
    if statuses is None:
        return None
    inputs = action.inputs if isinstance(action.inputs, dict) else {}
    code = inputs.get("rejection_code")
    reason = str(inputs.get("reason") or "")
    if action.kind == ReviewAction.Kind.REJECT and not reason and code is not None:
        # An empty reason was sent as the code's description.
        known = RejectionCode.objects.filter(portout_id=action.portout_id, code=code).first()
        reason = known.description if known else ""
    # Without the reason that was sent, only the status and code are compared.
    return _Wanted(statuses, reason or None, rejection_code=code)


def reconcile_review_actions(
    *,
    client: TelnyxClient | None = None,
    now: datetime | None = None,
    older_than: timedelta = STALE_AFTER,
) -> dict[str, int]:
    """Settle review actions left "started" by a request that died half-way.

    Authorize and reject are checked against a fresh read of the port-out: the one showing
    the decision succeeded (Telnyx applied it), the others failed with "outcome unknown".
    A port-out Telnyx cannot be asked about now is left for the next run. Comments, uploads
    and republishes cannot be recognised reliably, so they are marked failed with
    "outcome unknown", which tells the reviewer to check before sending them again.
    """
    cutoff = (now or timezone.now()) - older_than
    stale = list(
        ReviewAction.objects.filter(
            outcome=ReviewAction.Outcome.STARTED, created_at__lt=cutoff
        ).order_by("created_at")
    )
    counts = {"succeeded": 0, "failed": 0, "unchecked": 0}
    api = client or get_client()
    fetched: dict[str, PortOut | None] = {}
    for action in stale:
        wanted = _wanted_for(action)
        if wanted is None or not action.portout_id:
            message = f"{_UNFINISHED} Check what Telnyx shows before sending it again."
            if _settle(action, ok=False, message=message, response={}):
                counts["failed"] += 1
            continue
        pid = action.portout_id
        if pid not in fetched:
            try:
                fetched[pid] = sync.refresh_portout(pid, client=api, details=False)
            except NotFoundError:
                fetched[pid] = None
            except APIError as exc:
                logger.info("Review action %s left for the next run: %s", action.pk, exc)
                counts["unchecked"] += 1
                continue
        portout = fetched[pid]
        if portout is not None and wanted.seen_in(portout):
            message = (
                f"{action.get_kind_display()} of {_name(portout, pid)}: the request did not "
                "finish, but Telnyx shows the decision (confirmed on re-check)."
            )
            response = {"_message": message, "status": portout.status, "reconciled": True}
            if _settle(action, ok=True, message=message, response=response):
                counts["succeeded"] += 1
            continue
        if portout is None:
            message = f"{_UNFINISHED} Telnyx no longer finds this port-out."
        else:
            message = (
                f"{_UNFINISHED} Telnyx now reports it as “{_label(portout.status)}”, not as "
                "this decision asked."
            )
        if _settle(action, ok=False, message=message, response={"reconciled": True}):
            counts["failed"] += 1
    return counts
