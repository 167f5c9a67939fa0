"""The Telnyx webhook endpoint: signed deliveries recorded once, refreshes queued on commit."""

from __future__ import annotations

import base64
import json
import logging
import time
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.test import Client
from django.urls import reverse

from portouts import sync
from portouts.models import PortOut, PortOutEvent
from portouts.telnyx import TelnyxClient
from portouts.views.webhooks import MAX_BODY_BYTES

pytestmark = pytest.mark.django_db

URL = "/webhooks/telnyx"
PORTOUT_ID = "0ccc7b54-4df3-4bca-a65a-3da1ecc777f0"


def _public_b64(key: Ed25519PrivateKey) -> str:
    return base64.b64encode(key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()


@pytest.fixture
def signing_key(settings) -> Ed25519PrivateKey:
    key = Ed25519PrivateKey.generate()
    settings.TELNYX_PUBLIC_KEY = _public_b64(key)
    settings.TELNYX_WEBHOOK_TOLERANCE = 300
    return key


@pytest.fixture
def queued(monkeypatch) -> list[tuple[Any, ...]]:
    calls: list[tuple[Any, ...]] = []
    monkeypatch.setattr(
        "portouts.sync.refresh.refresh_portout_task.apply_async",
        lambda args, countdown=None: calls.append(tuple(args)),
    )
    return calls


def envelope(event_id: str = "ev-1", event_type: str = "portout.status_changed", **payload):
    return {
        "data": {
            "event_type": event_type,
            "id": event_id,
            "occurred_at": "2025-03-01T12:00:00.000Z",
            "payload": {"id": PORTOUT_ID, "status": "authorized", **payload},
            "record_type": "event",
        },
        "meta": {"attempt": 1, "delivered_to": "https://example.com/webhooks/telnyx"},
    }


def deliver(
    key: Ed25519PrivateKey,
    body: bytes | dict[str, Any],
    *,
    timestamp: int | None = None,
    signed_body: bytes | None = None,
    headers: dict[str, str] | None = None,
):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    signature = base64.b64encode(key.sign(stamp.encode() + b"|" + (signed_body or raw))).decode()
    sent = {"telnyx-signature-ed25519": signature, "telnyx-timestamp": stamp}
    if headers is not None:
        sent = headers
    # A fresh client that enforces CSRF, like a real sender without a session.
    return Client(enforce_csrf_checks=True).post(
        URL, data=raw, content_type="application/json", headers=sent
    )


def test_url_name_is_webhook():
    assert reverse("portouts:webhook") == URL


def test_valid_delivery_is_recorded_and_queues_one_refresh(
    signing_key, queued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = deliver(signing_key, envelope())

    assert response.status_code == 200
    event = PortOutEvent.objects.get()
    assert (event.id, event.event_type, event.portout_id, event.source) == (
        "ev-1",
        "portout.status_changed",
        PORTOUT_ID,
        "webhook",
    )
    assert event.payload["status"] == "authorized"
    assert event.processed_at is None
    assert queued == [(PORTOUT_ID,)]


def test_new_comment_event_names_the_portout(
    signing_key, queued, django_capture_on_commit_callbacks
):
    body = envelope("ev-c", "portout.new_comment")
    body["data"]["payload"] = {"id": "comment-1", "portout_id": PORTOUT_ID, "comment": "hi"}
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(signing_key, body).status_code == 200
    assert PortOutEvent.objects.get().portout_id == PORTOUT_ID
    assert queued == [(PORTOUT_ID,)]


def test_duplicate_delivery_is_one_event_and_one_refresh(
    signing_key, queued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = deliver(signing_key, envelope())
        again = envelope()
        again["meta"]["attempt"] = 2
        second = deliver(signing_key, again)

    assert first.status_code == second.status_code == 200
    assert second.json() == {"status": "duplicate"}
    assert PortOutEvent.objects.count() == 1
    assert len(queued) == 1


@pytest.mark.parametrize(
    "case",
    ["wrong key", "tampered", "stale", "future", "bad signature encoding", "bad timestamp"],
)
def test_unverifiable_deliveries_are_refused_and_nothing_is_stored(signing_key, queued, case):
    body = json.dumps(envelope()).encode()
    kwargs: dict[str, Any] = {}
    key = signing_key
    if case == "wrong key":
        key = Ed25519PrivateKey.generate()
    elif case == "tampered":
        kwargs["signed_body"] = body.replace(b"authorized", b"rejected")
    elif case == "stale":
        kwargs["timestamp"] = int(time.time()) - 301
    elif case == "future":
        kwargs["timestamp"] = int(time.time()) + 301
    elif case == "bad signature encoding":
        kwargs["headers"] = {
            "telnyx-signature-ed25519": "%%%not-base64",
            "telnyx-timestamp": str(int(time.time())),
        }
    elif case == "bad timestamp":
        kwargs["headers"] = {"telnyx-signature-ed25519": "AAAA", "telnyx-timestamp": "yesterday"}

    response = deliver(key, body, **kwargs)

    assert response.status_code in (401, 403)
    assert not PortOutEvent.objects.exists()
    assert queued == []


@pytest.mark.parametrize("missing", ["telnyx-signature-ed25519", "telnyx-timestamp", "both"])
def test_missing_signature_headers_are_refused(signing_key, queued, missing):
    stamp = str(int(time.time()))
    headers = {"telnyx-signature-ed25519": "AAAA", "telnyx-timestamp": stamp}
    for name in list(headers):
        if missing in (name, "both"):
            del headers[name]
    response = deliver(signing_key, envelope(), headers=headers)
    assert response.status_code == 400
    assert not PortOutEvent.objects.exists()
    assert queued == []


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"[1, 2]", b'{"data": "x"}', b'{"data": {"event_type": "x"}}', b"\xff\xfe"],
)
def test_signed_but_malformed_bodies_are_refused(signing_key, queued, body):
    response = deliver(signing_key, body)
    assert response.status_code == 400
    assert not PortOutEvent.objects.exists()
    assert queued == []


def test_without_a_public_key_every_delivery_is_refused(settings, queued, caplog):
    settings.TELNYX_PUBLIC_KEY = ""
    caplog.set_level(logging.ERROR, logger="portouts.webhooks")
    response = Client().post(URL, data=b"{}", content_type="application/json")
    assert response.status_code == 503
    assert "TELNYX_PUBLIC_KEY is not set" in caplog.text
    assert not PortOutEvent.objects.exists()


def test_only_post_is_allowed(signing_key):
    assert Client().get(URL).status_code == 405


def test_unknown_event_type_is_recorded(signing_key, queued, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = deliver(signing_key, envelope("ev-new", "portout.something_new"))
    assert response.status_code == 200
    assert PortOutEvent.objects.get().event_type == "portout.something_new"


def test_out_of_order_and_delayed_deliveries_end_in_the_api_state(sandbox_settings, monkeypatch):
    """Whatever order events are handled in, the refresh reads the API's current state."""
    monkeypatch.setattr("portouts.telnyx.retry.sleep", lambda seconds: None)
    sandbox = sandbox_settings
    with sandbox.state.lock:
        pid = next(p.id for p in sandbox.state.portouts.values() if p.status == "pending")
    sandbox.state.change_foc_date(pid, time.time() + 5 * 86400)
    sandbox.state.change_status(pid, "authorized")
    events = sandbox.state._events_by_portout[pid][-2:]
    with TelnyxClient("KEYsandbox_test_key", base_url=sandbox.base_url) as client:
        # newest first, then the older one, then the newest again (a retry by Telnyx)
        for _ in events:
            sync.handle_event(pid, client=client)
    assert PortOut.objects.get(id=pid).status == "authorized"


def test_signed_delivery_from_the_sandbox_is_accepted(
    sandbox_settings, queued, django_capture_on_commit_callbacks
):
    """The sandbox's own signature (its key in TELNYX_PUBLIC_KEY) passes verification."""
    sandbox = sandbox_settings
    with sandbox.state.lock:
        po = next(iter(sandbox.state.portouts.values()))
        event = sandbox.state.events[sandbox.state._events_by_portout[po.id][-1]]
        data = sandbox.state.webhook_data(event)
    body, headers = sandbox.webhooks.signed_request(data, attempt=1, url="http://testserver")
    with django_capture_on_commit_callbacks(execute=True):
        response = Client().post(
            URL,
            data=body,
            content_type="application/json",
            headers={k: v for k, v in headers.items() if k.startswith("telnyx-")},
        )
    assert response.status_code == 200
    assert queued == [(po.id,)]


def test_a_body_over_the_limit_is_refused_with_413_before_any_signature_work(
    signing_key, queued, monkeypatch
):
    checked: list[bytes] = []
    monkeypatch.setattr(
        "portouts.views.webhooks.telnyx.verify_webhook", lambda **kw: checked.append(kw["body"])
    )
    big = envelope()
    big["data"]["payload"]["padding"] = "x" * MAX_BODY_BYTES
    response = deliver(signing_key, big)  # validly signed, and still too big

    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"
    assert "256 KB" in response.json()["error"]
    assert checked == []
    assert not PortOutEvent.objects.exists()
    assert queued == []


def test_a_body_just_under_the_limit_is_accepted(signing_key, queued):
    body = envelope()
    body["data"]["payload"]["padding"] = ""
    size = len(json.dumps(body).encode())
    body["data"]["payload"]["padding"] = "x" * (MAX_BODY_BYTES - size)
    assert len(json.dumps(body).encode()) == MAX_BODY_BYTES
    assert deliver(signing_key, body).status_code == 200


def test_long_event_ids_are_stored_whole_and_too_long_ones_refused(
    signing_key, queued, django_capture_on_commit_callbacks
):
    # Two ids that share their first 64 characters are two events.
    first, second = "e" * 64 + "-first", "e" * 64 + "-second"
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(signing_key, envelope(first)).status_code == 200
        assert deliver(signing_key, envelope(second)).status_code == 200
    assert set(PortOutEvent.objects.values_list("id", flat=True)) == {first, second}

    refused = deliver(signing_key, envelope("e" * (PortOutEvent.ID_MAX_LENGTH + 1)))
    assert refused.status_code == 400
    assert PortOutEvent.objects.count() == 2


def test_a_burst_of_deliveries_for_one_portout_queues_one_refresh(
    signing_key, queued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        for i in range(5):
            assert deliver(signing_key, envelope(f"ev-burst-{i}")).status_code == 200
    assert PortOutEvent.objects.count() == 5
    assert queued == [(PORTOUT_ID,)]


def test_a_signed_event_with_nul_characters_is_stored_not_a_500(
    signing_key, queued, django_capture_on_commit_callbacks
):
    body = envelope("ev-nul", rejection_reason="bad\u0000reason")
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(signing_key, body).status_code == 200
    assert PortOutEvent.objects.get().payload["rejection_reason"] == "bad\ufffdreason"
