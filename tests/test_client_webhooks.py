"""Webhook signature verification (Ed25519) and delivery parsing."""

from __future__ import annotations

import base64
import json
import logging
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from portouts.telnyx import (
    WebhookEvent,
    WebhookPayloadError,
    WebhookVerificationError,
    parse_webhook,
    verify_webhook,
)

NOW = 1_750_000_000
PORTOUT_ID = "96dfa9e4-c753-4fd3-97cd-42d66f26cf0c"


def public_b64(private_key: Ed25519PrivateKey) -> str:
    raw = private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def sign(private_key: Ed25519PrivateKey, timestamp: str, body: bytes) -> str:
    return base64.b64encode(private_key.sign(timestamp.encode() + b"|" + body)).decode()


@pytest.fixture
def keypair() -> tuple[Ed25519PrivateKey, str]:
    private_key = Ed25519PrivateKey.generate()
    return private_key, public_b64(private_key)


def delivery(event_type: str, payload: dict, *, attempt: int = 1) -> bytes:
    return json.dumps(
        {
            "data": {
                "event_type": event_type,
                "id": "0d7b0f8a-2f64-4f3b-9d5e-4a4b2f8f9c11",
                "occurred_at": "2022-04-11T14:46:27Z",
                "record_type": "event",
                "payload": payload,
            },
            "meta": {"attempt": attempt, "delivered_to": "https://example.com/porting_webhooks"},
        }
    ).encode()


BODY = delivery("portout.status_changed", {"id": PORTOUT_ID, "status": "authorized"})


# -- verification -----------------------------------------------------------------


def test_valid_signature_passes(keypair):
    private_key, public_key = keypair
    ts = str(NOW)
    verify_webhook(
        body=BODY,
        signature=sign(private_key, ts, BODY),
        timestamp=ts,
        public_key=public_key,
        now=NOW,
    )


def test_valid_signature_within_tolerance_either_side(keypair):
    private_key, public_key = keypair
    for ts in (str(NOW - 300), str(NOW + 300)):
        verify_webhook(
            body=BODY,
            signature=sign(private_key, ts, BODY),
            timestamp=ts,
            public_key=public_key,
            now=NOW,
        )


def test_wrong_key_fails(keypair):
    private_key, _ = keypair
    other = public_b64(Ed25519PrivateKey.generate())
    ts = str(NOW)
    with pytest.raises(WebhookVerificationError, match="signature does not match"):
        verify_webhook(
            body=BODY,
            signature=sign(private_key, ts, BODY),
            timestamp=ts,
            public_key=other,
            now=NOW,
        )


def test_tampered_body_fails(keypair):
    private_key, public_key = keypair
    ts = str(NOW)
    signature = sign(private_key, ts, BODY)
    tampered = BODY.replace(b"authorized", b"rejected")
    with pytest.raises(WebhookVerificationError, match="signature does not match"):
        verify_webhook(
            body=tampered, signature=signature, timestamp=ts, public_key=public_key, now=NOW
        )


def test_signature_bound_to_timestamp(keypair):
    private_key, public_key = keypair
    signature = sign(private_key, str(NOW - 10), BODY)
    with pytest.raises(WebhookVerificationError, match="signature does not match"):
        verify_webhook(
            body=BODY, signature=signature, timestamp=str(NOW), public_key=public_key, now=NOW
        )


@pytest.mark.parametrize(("offset", "word"), [(-301, "old"), (+301, "in the future")])
def test_stale_and_future_timestamps_fail(keypair, offset, word):
    private_key, public_key = keypair
    ts = str(NOW + offset)
    with pytest.raises(WebhookVerificationError, match=f"301 s {word}, outside the 300 s"):
        verify_webhook(
            body=BODY,
            signature=sign(private_key, ts, BODY),
            timestamp=ts,
            public_key=public_key,
            now=NOW,
        )


def test_tolerance_is_configurable_and_now_defaults_to_the_clock(keypair):
    private_key, public_key = keypair
    ts = str(NOW)
    signature = sign(private_key, ts, BODY)
    with pytest.raises(WebhookVerificationError, match="outside the 60 s"):
        verify_webhook(
            body=BODY,
            signature=signature,
            timestamp=ts,
            public_key=public_key,
            tolerance=60,
            now=NOW + 61,
        )
    # without `now` the real clock is used: a 2025 timestamp is far outside 300 s today
    with pytest.raises(WebhookVerificationError, match="old"):
        verify_webhook(body=BODY, signature=signature, timestamp=ts, public_key=public_key)


@pytest.mark.parametrize(
    ("signature", "timestamp", "message"),
    [
        (None, str(NOW), "telnyx-signature-ed25519 header is missing"),
        ("", str(NOW), "telnyx-signature-ed25519 header is missing"),
        ("SIG", None, "telnyx-timestamp header is missing"),
        ("SIG", " ", "telnyx-timestamp header is missing"),
        ("SIG", "yesterday", "telnyx-timestamp header is not a Unix time"),
        ("SIG", "1750000000.5", "telnyx-timestamp header is not a Unix time"),
        ("not base64!!", str(NOW), "telnyx-signature-ed25519 header is not valid base64"),
        (base64.b64encode(b"short").decode(), str(NOW), "decodes to 5 bytes"),
    ],
)
def test_missing_or_malformed_headers_fail_clearly(keypair, signature, timestamp, message):
    private_key, public_key = keypair
    if signature == "SIG":
        signature = sign(private_key, str(NOW), BODY)
    with pytest.raises(WebhookVerificationError, match=message):
        verify_webhook(
            body=BODY, signature=signature, timestamp=timestamp, public_key=public_key, now=NOW
        )


@pytest.mark.parametrize(
    ("public_key", "message"),
    [
        ("", "No Telnyx public key is configured"),
        ("%%%not-base64%%%", "not valid base64"),
        (base64.b64encode(b"x" * 16).decode(), "decodes to 16 bytes"),
    ],
)
def test_bad_public_key_fails_clearly(keypair, public_key, message):
    private_key, _ = keypair
    ts = str(NOW)
    with pytest.raises(WebhookVerificationError, match=message):
        verify_webhook(
            body=BODY,
            signature=sign(private_key, ts, BODY),
            timestamp=ts,
            public_key=public_key,
            now=NOW,
        )


def test_verification_error_is_a_value_error():
    assert issubclass(WebhookVerificationError, ValueError)
    assert issubclass(WebhookPayloadError, ValueError)


# -- parsing -----------------------------------------------------------------------


def test_parse_status_changed():
    event = parse_webhook(BODY)
    assert event == WebhookEvent(
        id="0d7b0f8a-2f64-4f3b-9d5e-4a4b2f8f9c11",
        event_type="portout.status_changed",
        occurred_at=datetime(2022, 4, 11, 14, 46, 27, tzinfo=UTC),
        payload={"id": PORTOUT_ID, "status": "authorized"},
        portout_id=PORTOUT_ID,
        comment_id=None,
        attempt=1,
        delivered_to="https://example.com/porting_webhooks",
        record_type="event",
    )
    assert event.is_known_type


def test_parse_new_comment_maps_comment_and_portout_ids():
    body = delivery(
        "portout.new_comment",
        {
            "id": "comment-1",
            "portout_id": "d26109e5-0605-4671-a235-d3c649cc8406",
            "user_id": "1c45c968-c2e0-4559-b1dd-db073962fc61",
            "comment": "This is a comment.",
        },
        attempt=3,
    )
    event = parse_webhook(body)
    assert event.portout_id == "d26109e5-0605-4671-a235-d3c649cc8406"
    assert event.comment_id == "comment-1"
    assert event.payload["comment"] == "This is a comment."
    assert event.attempt == 3


def test_parse_foc_date_changed_from_text_or_dict():
    body = delivery(
        "portout.foc_date_changed",
        {"id": PORTOUT_ID, "user_id": "u", "foc_date": "2021-03-19T10:07:15.527Z"},
    )
    event = parse_webhook(body.decode())
    assert (event.portout_id, event.comment_id) == (PORTOUT_ID, None)
    assert parse_webhook(json.loads(body)) == event


def test_unknown_event_type_is_accepted_and_logged(caplog):
    caplog.set_level(logging.WARNING, logger="portouts.telnyx")
    event = parse_webhook(delivery("portout.something_new", {"id": PORTOUT_ID}))
    assert event.event_type == "portout.something_new"
    assert not event.is_known_type
    assert event.portout_id == PORTOUT_ID
    assert "unknown type 'portout.something_new'" in caplog.text


def test_parse_tolerates_nulls_and_missing_meta():
    body = json.dumps(
        {
            "data": {
                "id": "e1",
                "event_type": "portout.status_changed",
                "payload": None,
                "occurred_at": None,
            }
        }
    )
    event = parse_webhook(body)
    assert event.payload == {} and event.portout_id is None
    assert event.occurred_at is None and event.attempt is None


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", "not valid JSON"),
        (b"\xff\xfe", "not valid JSON"),
        (b"[1, 2]", "not an object"),
        (b'{"meta": {}}', "no `data` object"),
        (b'{"data": {"event_type": "portout.new_comment"}}', "no `data.id`"),
        (b'{"data": {"id": "e1"}}', "no `data.event_type`"),
    ],
)
def test_malformed_bodies_raise_payload_error(body, message):
    with pytest.raises(WebhookPayloadError, match=message):
        parse_webhook(body)
