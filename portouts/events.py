"""Port-out events: the rows of the events page, and republishing with an audit row.

Events themselves are written only by the sync (from the Events API and webhooks); this
module reads them and asks Telnyx to deliver one again.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from portouts.models import PortOut, PortOutEvent, ReviewAction
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


#: Payload keys a person reads first, in this order, in the one-line summary.
SUMMARY_KEYS = ("status", "rejection_reason", "attempted_pin", "comment", "foc_date")
#: Keys the summary leaves to the full JSON (ids and lists repeat what the row shows).
UNSUMMARISED = {"id", "portout_id", "user_id", "phone_numbers"}


def payload_summary(payload: Any) -> str:
    """One line: the keys a person reads first, then the other plain values."""
    if not isinstance(payload, dict):
        return str(payload)
    plain = {i.key: i.value for i in payload_items(payload) if not i.structured}
    first = [k for k in SUMMARY_KEYS if k in plain]
    rest = [k for k in plain if k not in SUMMARY_KEYS and k not in UNSUMMARISED]
    return " · ".join(f"{k}: {plain[k]}" for k in first + rest if plain[k] != "—")


@dataclass(frozen=True)
class EventRow:
    """One row of the events page, with the port-out named by its support key."""

    event: PortOutEvent
    portout_label: str
    #: True when the cache holds the port-out, so its page can be linked
    portout_known: bool
    summary: str
    payload_json: str


def event_rows(events: list[PortOutEvent]) -> list[EventRow]:
    """The page's rows, their port-outs' support keys read in one query."""
    ids = {e.portout_id for e in events if e.portout_id}
    keys = dict(PortOut.objects.filter(id__in=ids).values_list("id", "support_key"))
    return [
        EventRow(
            event=e,
            portout_label=keys.get(e.portout_id) or e.portout_id,
            portout_known=e.portout_id in keys,
            summary=payload_summary(e.payload),
            payload_json=json.dumps(e.payload, indent=2, default=str, ensure_ascii=False),
        )
        for e in events
    ]


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
