"""Comments: post one to Telnyx (its porting team reads them) and cache what Telnyx returns."""

from __future__ import annotations

from typing import Any

from portouts import sync
from portouts.interactive import interactive_client
from portouts.models import ReviewAction
from portouts.review.audit import (
    ReviewResult,
    change_failure,
    review_action_begin,
    review_action_fail,
    review_action_succeed,
)
from portouts.telnyx import APIError, TelnyxClient

POSTED = "Comment posted to Telnyx."


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
    action = review_action_begin(
        user=user,
        kind=ReviewAction.Kind.COMMENT,
        portout_id=portout_id,
        inputs={"body": body},
        idempotency_key=idempotency_key,
    )
    if isinstance(action, ReviewResult):
        return action
    try:
        comment = interactive_client(client).create_comment(portout_id, body=body)
    except APIError as exc:
        return review_action_fail(action, change_failure(exc))
    sync.store_comments(portout_id, [comment])
    return review_action_succeed(action, POSTED, dict(comment.raw))
