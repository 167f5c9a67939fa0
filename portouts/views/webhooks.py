"""The Telnyx webhook endpoint: verify, record once, queue a refresh, answer at once."""

from __future__ import annotations

import base64
import binascii
import logging

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import transaction
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from portouts import sync, telnyx
from portouts.models import PortOutEvent

logger = logging.getLogger("portouts.webhooks")

#: largest body accepted; Telnyx's port-out events are a few KB, so anything near this is
#: refused before any signature work or storage
MAX_BODY_BYTES = 256 * 1024


def _key_is_usable(public_key: str) -> bool:
    """A 32-byte base64 Ed25519 key; anything else is our configuration error, not theirs."""
    text = "".join(public_key.split())
    try:
        return len(base64.b64decode(text + "=" * (-len(text) % 4), validate=True)) == 32
    except (binascii.Error, ValueError):
        return False


def _read_body(request: HttpRequest) -> bytes | None:
    """The body, or None when it is over MAX_BODY_BYTES (read no further than that)."""
    try:
        declared = int(request.headers.get("Content-Length") or 0)
    except ValueError:
        declared = 0
    if declared > MAX_BODY_BYTES:
        return None
    body = request.read(MAX_BODY_BYTES + 1)
    return None if len(body) > MAX_BODY_BYTES else body


@csrf_exempt
@login_not_required
@require_POST
def telnyx_webhook(request: HttpRequest) -> JsonResponse:
    """Accept a signed Telnyx port-out event.

    The body is never trusted: the cache is refreshed from the API by a task, so duplicate,
    late and out-of-order deliveries all end in the state Telnyx holds.
    """
    public_key = settings.TELNYX_PUBLIC_KEY or ""
    if not public_key.strip() or not _key_is_usable(public_key):
        logger.error(
            "Refused a Telnyx webhook: TELNYX_PUBLIC_KEY is %s, so signatures cannot be checked",
            "not set" if not public_key.strip() else "not a valid Ed25519 public key",
        )
        return JsonResponse({"error": "Webhooks are not configured."}, status=503)
    body = _read_body(request)
    if body is None:
        logger.warning("Refused a Telnyx webhook over %d bytes", MAX_BODY_BYTES)
        return JsonResponse(
            {"error": f"The body is larger than {MAX_BODY_BYTES // 1024} KB."}, status=413
        )
    signature = request.headers.get(telnyx.SIGNATURE_HEADER)
    timestamp = request.headers.get(telnyx.TIMESTAMP_HEADER)
    if not signature or not timestamp:
        logger.warning("Refused a Telnyx webhook without signature headers")
        return JsonResponse({"error": "Missing signature headers."}, status=400)
    try:
        telnyx.verify_webhook(
            body=body,
            signature=signature,
            timestamp=timestamp,
            public_key=public_key,
            tolerance=settings.TELNYX_WEBHOOK_TOLERANCE,
        )
    except telnyx.WebhookVerificationError as exc:
        logger.warning("Refused a Telnyx webhook: %s", exc)
        return JsonResponse({"error": "Invalid signature."}, status=401)
    try:
        event = telnyx.parse_webhook(body)
    except telnyx.WebhookPayloadError as exc:
        logger.warning("Refused a signed Telnyx webhook: %s", exc)
        return JsonResponse({"error": "Malformed event."}, status=400)
    if len(event.id) > PortOutEvent.ID_MAX_LENGTH:
        logger.warning("Refused a signed Telnyx webhook whose event id is too long")
        return JsonResponse({"error": "The event id is too long."}, status=400)

    with transaction.atomic():
        created = sync.store_webhook_event(event)
        if created and event.portout_id:
            portout_id = event.portout_id
            # robust: a broker outage must not turn a stored event into a 500; the next
            # incremental sync reads the port-outs of events whose refresh never ran.
            transaction.on_commit(lambda: sync.refresh_portout_soon(portout_id), robust=True)
    if not created:
        logger.info("Telnyx webhook %s was already received; ignored", event.id)
    return JsonResponse({"status": "received" if created else "duplicate"}, status=200)
