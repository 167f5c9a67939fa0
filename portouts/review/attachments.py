"""Supporting documents: upload a file to Telnyx Documents and attach it to the port-out.

Both calls happen in the same request: Telnyx deletes documents left unattached.
"""

from __future__ import annotations

import hashlib
from typing import Any

from portouts import sync
from portouts.choices import DocumentType
from portouts.documents import ACCEPTED_TYPES_TEXT, DOCUMENT_CONTENT_TYPES
from portouts.interactive import interactive_client
from portouts.models import ReviewAction
from portouts.review.audit import (
    ReviewResult,
    change_failure,
    review_action_begin,
    review_action_fail,
    review_action_finish,
    review_action_succeed,
)
from portouts.telnyx import MAX_DOCUMENT_BYTES, APIError, TelnyxClient, failure_sentence

#: How a document type is named in messages.
TYPE_NAMES = {DocumentType.LOA.value: "LOA", DocumentType.INVOICE.value: "invoice"}


def _refusal(*, document_type: str, filename: str, content: bytes, content_type: str) -> str:
    """Why the file cannot be sent, checked before anything reaches Telnyx ("" if it can)."""
    if document_type not in TYPE_NAMES:
        return "Choose LOA or invoice."
    if content_type not in DOCUMENT_CONTENT_TYPES:
        return f"Only {ACCEPTED_TYPES_TEXT} files can be attached."
    if len(content) > MAX_DOCUMENT_BYTES:
        return f"Telnyx accepts documents of at most {MAX_DOCUMENT_BYTES // (1024 * 1024)} MB."
    if not content:
        return f"“{filename}” is empty."
    return ""


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
    """Upload a file to Telnyx Documents and attach it to the port-out as LOA or invoice."""
    refusal = _refusal(
        document_type=document_type, filename=filename, content=content, content_type=content_type
    )
    if refusal:
        return ReviewResult(ok=False, message=refusal, refused=True)
    inputs = {
        "document_type": document_type,
        "filename": filename,
        "content_type": content_type,
        "size": len(content),
        "sha256": hashlib.sha256(content).hexdigest(),
    }
    action = review_action_begin(
        user=user,
        kind=ReviewAction.Kind.UPLOAD,
        portout_id=portout_id,
        inputs=inputs,
        idempotency_key=idempotency_key,
    )
    if isinstance(action, ReviewResult):
        return action
    api = interactive_client(client)
    try:
        document = api.upload_document(
            filename=filename, content=content, content_type=content_type
        )
    except APIError as exc:
        return review_action_fail(action, change_failure(exc))
    if not document.id:
        message = f"Telnyx did not return an id for “{filename}”; upload it again."
        review_action_finish(action, ok=False, response={"document": document.raw}, error=message)
        return ReviewResult(ok=False, message=message, action=action)
    try:
        attached = api.create_supporting_documents(
            portout_id, documents=[(document_type, document.id)]
        )
    except APIError as exc:
        message = (
            f"“{filename}” was uploaded but could not be attached: {failure_sentence(exc)} "
            "Telnyx deletes unattached documents after 30 minutes; upload it again."
        )
        review_action_finish(action, ok=False, response={"document": document.raw}, error=message)
        return ReviewResult(ok=False, message=message, action=action)
    sync.store_supporting_documents(portout_id, attached)
    message = f"“{filename}” attached as {TYPE_NAMES[document_type]}."
    response = {"document": document.raw, "supporting_documents": [d.raw for d in attached]}
    return review_action_succeed(action, message, response)
