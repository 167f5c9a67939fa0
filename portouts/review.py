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
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from portouts import sync
from portouts.models import PortOut, PortOutStatus, RejectionCode, ReviewAction
from portouts.telnyx import (
    APIConnectionError,
    APIError,
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

logger = logging.getLogger(__name__)

DOCUMENT_TYPES = ("loa", "invoice")
DOCUMENT_CONTENT_TYPES = ("application/pdf", "image/jpeg", "image/png", "image/tiff")
MAX_DOCUMENT_BYTES = 20 * 1024 * 1024

User = AbstractBaseUser | AnonymousUser


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
    elif isinstance(exc, APIConnectionError):
        text = "The dashboard could not reach Telnyx. Nothing was changed; try again shortly."
    else:
        text = "Telnyx could not be asked. Nothing was changed; try again shortly."
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


def _client(client: TelnyxClient | None) -> TelnyxClient:
    return client or get_client()


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
    success: Callable[[PortOut], str],
) -> ReviewResult:
    action, created = _start(
        user=user, kind=kind, portout_id=portout_id, inputs=inputs, idempotency_key=idempotency_key
    )
    if not created:
        return _replayed(action, kind=kind, portout_id=portout_id)
    api = _client(client)
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
        # Telnyx refused on the merits (e.g. 422 not pending): show its current state.
        # After a rate limit, server error or timeout, asking again now would not help.
        refused = isinstance(exc, UnprocessableEntityError | ConflictError | NotFoundError)
        refreshed = _refresh_quietly(portout_id, api) if refused else fresh
        return _fail(action, describe_api_error(exc), portout=refreshed)
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
    fetched = _client(client).list_rejection_codes(portout_id)
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

    return _decide(
        user=user,
        kind=ReviewAction.Kind.REJECT,
        portout_id=portout_id,
        inputs=inputs,
        idempotency_key=idempotency_key,
        client=client,
        check=check,
        send=send,
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
        comment = _client(client).create_comment(portout_id, body=body)
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
    if document_type not in DOCUMENT_TYPES:
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
    api = _client(client)
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
