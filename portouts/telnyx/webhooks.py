"""Verify and parse Telnyx webhook deliveries.

Telnyx signs each delivery with Ed25519 over ``"{telnyx-timestamp}|{raw body}"``.
Verify against the *raw* request bytes before parsing: re-serialised JSON would
not match. The timestamp check uses ``abs(now - ts)`` like the official SDKs, so
a delivery dated in the future is refused just like a replayed old one.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import time
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from .errors import WebhookPayloadError, WebhookVerificationError
from .fields import parse_datetime
from .types import EVENT_NEW_COMMENT, KNOWN_EVENT_TYPES, WebhookEvent

__all__ = [
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "parse_webhook",
    "verify_webhook",
]

logger = logging.getLogger("portouts.telnyx")

SIGNATURE_HEADER = "telnyx-signature-ed25519"
TIMESTAMP_HEADER = "telnyx-timestamp"
DEFAULT_TOLERANCE = 300


def _b64decode(value: str) -> bytes:
    text = "".join(value.split())
    text += "=" * (-len(text) % 4)
    return base64.b64decode(text, validate=True)


def _load_public_key(public_key: str) -> Ed25519PublicKey:
    if not public_key or not public_key.strip():
        raise WebhookVerificationError(
            "No Telnyx public key is configured; set TELNYX_PUBLIC_KEY to the key shown "
            "in the Telnyx portal (API Keys → Public Key)."
        )
    try:
        raw = _b64decode(public_key)
    except (binascii.Error, ValueError) as exc:
        raise WebhookVerificationError(
            "The configured Telnyx public key is not valid base64; copy it again from the portal."
        ) from exc
    if len(raw) != 32:
        raise WebhookVerificationError(
            f"The configured Telnyx public key decodes to {len(raw)} bytes; an Ed25519 key "
            "has 32. Copy it again from the portal."
        )
    return Ed25519PublicKey.from_public_bytes(raw)


def verify_webhook(
    *,
    body: bytes,
    signature: str | None,
    timestamp: str | None,
    public_key: str,
    tolerance: int = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> None:
    """Raise `WebhookVerificationError` unless the delivery is signed by Telnyx and fresh.

    `signature` and `timestamp` are the raw `telnyx-signature-ed25519` and
    `telnyx-timestamp` header values (None when absent).
    """
    key = _load_public_key(public_key)
    if not signature or not signature.strip():
        raise WebhookVerificationError(f"The {SIGNATURE_HEADER} header is missing.")
    if not timestamp or not timestamp.strip():
        raise WebhookVerificationError(f"The {TIMESTAMP_HEADER} header is missing.")
    try:
        sent_at = int(timestamp.strip())
    except ValueError as exc:
        raise WebhookVerificationError(
            f"The {TIMESTAMP_HEADER} header is not a Unix time in seconds."
        ) from exc
    current = time.time() if now is None else now
    skew = current - sent_at
    if abs(skew) > tolerance:
        where = "old" if skew > 0 else "in the future"
        raise WebhookVerificationError(
            f"The webhook timestamp is {abs(int(skew))} s {where}, outside the {tolerance} s "
            "tolerance (replayed delivery or wrong server clock)."
        )
    try:
        sig_bytes = _b64decode(signature)
    except (binascii.Error, ValueError) as exc:
        raise WebhookVerificationError(
            f"The {SIGNATURE_HEADER} header is not valid base64."
        ) from exc
    if len(sig_bytes) != 64:
        raise WebhookVerificationError(
            f"The {SIGNATURE_HEADER} header decodes to {len(sig_bytes)} bytes; "
            "an Ed25519 signature has 64."
        )
    if isinstance(body, str):
        body = body.encode("utf-8")
    message = timestamp.strip().encode("ascii") + b"|" + bytes(body)
    try:
        key.verify(sig_bytes, message)
    except InvalidSignature as exc:
        raise WebhookVerificationError(
            "The webhook signature does not match the body: it was not sent by Telnyx, the body "
            "was altered, or TELNYX_PUBLIC_KEY belongs to another account."
        ) from exc


def _load_json(body: bytes | str | dict[str, Any]) -> dict[str, Any]:
    if isinstance(body, dict):
        return body
    try:
        decoded = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise WebhookPayloadError(f"The webhook body is not valid JSON: {exc}") from exc
    except TypeError as exc:
        raise WebhookPayloadError("The webhook body must be bytes, text or a dict.") from exc
    if not isinstance(decoded, dict):
        raise WebhookPayloadError("The webhook body is JSON but not an object.")
    return decoded


def parse_webhook(body: bytes | str | dict[str, Any]) -> WebhookEvent:
    """Parse a delivery envelope `{data: {...}, meta: {...}}` into a `WebhookEvent`.

    Unknown event types are accepted (and logged) so a new Telnyx event never
    breaks the endpoint; only a body that is not the envelope raises
    `WebhookPayloadError`.
    """
    envelope = _load_json(body)
    data = envelope.get("data")
    if not isinstance(data, dict):
        raise WebhookPayloadError("The webhook body has no `data` object.")
    event_id = data.get("id")
    event_type = data.get("event_type")
    if not isinstance(event_id, str) or not event_id:
        raise WebhookPayloadError("The webhook body has no `data.id`.")
    if not isinstance(event_type, str) or not event_type:
        raise WebhookPayloadError("The webhook body has no `data.event_type`.")
    payload = data.get("payload")
    payload = payload if isinstance(payload, dict) else {}
    meta = envelope.get("meta")
    meta = meta if isinstance(meta, dict) else {}

    def text(value: Any) -> str | None:
        return None if value is None else str(value)

    if event_type == EVENT_NEW_COMMENT:
        portout_id, comment_id = text(payload.get("portout_id")), text(payload.get("id"))
    else:
        portout_id, comment_id = text(payload.get("id")), None
        if event_type not in KNOWN_EVENT_TYPES:
            logger.warning(
                "Received a Telnyx webhook of unknown type %r (id %s)", event_type, event_id
            )

    attempt = meta.get("attempt")
    return WebhookEvent(
        id=event_id,
        event_type=event_type,
        occurred_at=parse_datetime(data.get("occurred_at")),
        payload=payload,
        portout_id=portout_id,
        comment_id=comment_id,
        attempt=attempt if isinstance(attempt, int) and not isinstance(attempt, bool) else None,
        delivered_to=text(meta.get("delivered_to")),
        record_type=text(data.get("record_type")),
        raw=envelope,
    )
