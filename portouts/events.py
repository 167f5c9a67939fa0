"""Port-out events: readable payloads for the events page, and republishing with an audit row.

Events themselves are written only by the sync (from the Events API and webhooks); this
module reads them and asks Telnyx to deliver one again.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from portouts.models import PortOutEvent, ReviewAction
from portouts.review.audit import review_action_finish, review_action_start
from portouts.telnyx import APIError, TelnyxClient, failure_sentence, get_client

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PayloadItem:
    key: str
    value: str
    #: True when the value is nested (shown as indented JSON).
    structured: bool = False


def payload_items(payload: Any) -> list[PayloadItem]:
    """An event payload as key/value pairs; nested values as pretty JSON."""
    if not isinstance(payload, dict):
        return [PayloadItem("value", json.dumps(payload, indent=2, default=str), True)]
    items = []
    for key, value in payload.items():
        if isinstance(value, dict | list) and value:
            if isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
                items.append(PayloadItem(str(key), ", ".join(str(v) for v in value)))
            else:
                items.append(PayloadItem(str(key), json.dumps(value, indent=2, default=str), True))
        elif value is None or value == [] or value == {}:
            items.append(PayloadItem(str(key), "—"))
        else:
            items.append(PayloadItem(str(key), str(value)))
    return items


@dataclass(frozen=True)
class RepublishResult:
    ok: bool
    message: str
    action: ReviewAction


def republish_event(
    *, event: PortOutEvent, user: Any, client: TelnyxClient | None = None
) -> RepublishResult:
    """Ask Telnyx to deliver an event again, recorded as a ReviewAction (kind republish).

    The audit row is written before the call and completed with the outcome, so an
    attempt is kept even when the request dies half-way. Telnyx creates no new event and
    sends only to the channels subscribed now.
    """
    event_id = event.id
    action, _created = review_action_start(
        user=user,
        kind=ReviewAction.Kind.REPUBLISH,
        portout_id=event.portout_id or None,
        inputs={"event_id": event_id, "event_type": event.event_type},
    )
    try:
        (client or get_client()).republish_event(event_id)
    except APIError as exc:
        message = f"Telnyx did not republish event {event_id}. {failure_sentence(exc)}"
        review_action_finish(action, ok=False, error=message)
        logger.info("Republish of event %s failed: %s", event_id, type(exc).__name__)
        return RepublishResult(ok=False, message=message, action=action)
    message = (
        f"Telnyx will deliver event {event_id} again to the notification channels "
        "subscribed now (an e-mail copy may take a few minutes)."
    )
    review_action_finish(action, ok=True, response={"status": 204, "message": message})
    return RepublishResult(ok=True, message=message, action=action)
