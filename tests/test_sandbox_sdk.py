"""Real clients against the sandbox: the project's own `portouts.telnyx` client (every
operation and each fault it must ride out) and the official `telnyx` SDK (4.x), including
its Ed25519 webhook verification of the sandbox's signed deliveries."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta

import pytest
import telnyx
from telnyx.lib.webhook_verification import verify_webhook_signature

from portouts.telnyx import (
    APIConnectionError,
    APITimeoutError,
    InternalServerError,
    NotFoundError,
    RateLimitError,
    TelnyxClient,
    UnprocessableEntityError,
    parse_webhook,
    verify_webhook,
)
from telnyx_sandbox.server import SandboxServer


def _pending(sandbox: SandboxServer):
    return sandbox.state.portouts[sandbox.state._by_status["pending"][-1][1]]


# ================================================================ project client


@pytest.fixture
def waits() -> list[float]:
    return []


@pytest.fixture
def client(sandbox: SandboxServer, waits: list[float]):
    with TelnyxClient(
        "KEYproject", base_url=sandbox.base_url, timeout=2, max_retries=3, sleep=waits.append
    ) as c:
        yield c


def test_client_lists_with_filters_and_pagination(client: TelnyxClient, sandbox) -> None:
    all_ids = [p.id for p in client.list_portouts(page_size=7)]
    assert sorted(all_ids) == sorted(sandbox.state.portouts)
    pending = list(client.list_portouts(status="pending"))
    expected = {p.id for p in sandbox.state.portouts.values() if p.status == "pending"}
    assert {p.id for p in pending} == expected and all(p.status == "pending" for p in pending)
    mixed = list(client.list_portouts(status_in=["pending", "ported"], page_size=5))
    assert {p.status for p in mixed} == {"pending", "ported"}
    page = client.list_portouts_page(page_number=2, page_size=10, country_code="US")
    assert page.meta.page_number == 2 and len(page.data) == 10
    assert all(p.phone_numbers[0].startswith("+1") for p in page.data)
    po = _pending(sandbox)
    assert [p.id for p in client.list_portouts(phone_number=po.phone_numbers[0])] == [po.id]
    recent = list(client.list_portouts(inserted_at_gte=datetime.now(UTC) - timedelta(days=2)))
    assert recent and all(
        p.created_at and p.created_at >= datetime.now(UTC) - timedelta(days=2) for p in recent
    )


def test_client_get_decide_and_rejection_codes(client: TelnyxClient, sandbox) -> None:
    po = _pending(sandbox)
    fetched = client.get_portout(po.id)
    assert fetched.support_key == po.support_key and fetched.foc_date is not None
    codes = client.list_rejection_codes(po.id)
    assert {c.code for c in codes} == set(po.rejection_codes)
    assert [c.code for c in client.list_rejection_codes(po.id, code=1002)] == [1002]
    rejected = client.update_portout_status(
        po.id, status="rejected-pending", reason="", rejection_code=1002
    )
    assert rejected.status == "rejected-pending" and rejected.rejection_code == 1002
    with pytest.raises(UnprocessableEntityError) as excinfo:
        client.update_portout_status(po.id, status="authorized", reason="")
    assert excinfo.value.errors[0]["code"] == "10015"
    with pytest.raises(NotFoundError):
        client.get_portout("00000000-0000-4000-8000-000000000000")
    other = sandbox.state.portouts[sandbox.state._by_status["pending"][-1][1]]
    authorized = client.update_portout_status(other.id, status="authorized", reason="ok")
    assert authorized.status == "authorized"


def test_client_comments_documents_and_supporting_documents(client: TelnyxClient, sandbox) -> None:
    po = _pending(sandbox)
    comment = client.create_comment(po.id, body="Please send the LOA")
    assert comment.body == "Please send the LOA" and comment.portout_id == po.id
    assert client.list_comments(po.id)[-1].id == comment.id
    doc = client.upload_document(
        filename="loa.pdf", content=b"%PDF-1.4 signed", content_type="application/pdf"
    )
    assert doc.filename == "loa.pdf" and doc.size == len(b"%PDF-1.4 signed")
    assert client.download_document(doc.id) == b"%PDF-1.4 signed"
    with client.stream_document(doc.id) as chunks:
        assert b"".join(chunks) == b"%PDF-1.4 signed"
    created = client.create_supporting_documents(po.id, documents=[("loa", doc.id)])
    assert [d.document_id for d in created] == [doc.id]
    assert [d.id for d in client.list_supporting_documents(po.id)] == [created[0].id]


def test_client_events_and_republish(client: TelnyxClient, sandbox, webhook_receiver) -> None:
    po = _pending(sandbox)
    client.create_comment(po.id, body="hello")
    events = list(client.list_events(portout_id=po.id))
    assert events[0].event_type == "portout.new_comment"
    assert {e.portout_id for e in events} == {po.id}
    typed = client.list_events_page(event_type="portout.foc_date_changed", page_size=5)
    assert typed.data and all(e.event_type == "portout.foc_date_changed" for e in typed.data)
    assert client.get_event(events[0].id).payload["comment"] == "hello"
    sandbox.webhook_url = webhook_receiver.url
    client.republish_event(events[0].id)
    assert json.loads(webhook_receiver.wait_for(1)[0].body)["data"]["id"] == events[0].id


def test_client_reports(client: TelnyxClient, sandbox) -> None:
    report = client.create_report(filters={"status__in": ["rejected"]})
    assert report.status == "pending"
    done = client.get_report(report.id)
    assert done.status == "completed" and done.document_id
    rows = list(csv.DictReader(io.StringIO(client.download_document(done.document_id).decode())))
    assert {r["status"] for r in rows} == {"rejected"}
    assert [r.id for r in client.list_reports(status="completed")] == [report.id]


def test_client_verifies_and_parses_sandbox_webhooks(sandbox, webhook_receiver) -> None:
    sandbox.webhook_url = webhook_receiver.url
    po = _pending(sandbox)
    comment = sandbox.state.add_comment(po.id, "signed comment")
    item = webhook_receiver.wait_for(1)[0]
    headers = {k.lower(): v for k, v in item.headers.items()}
    verify_webhook(
        body=item.body,
        signature=headers["telnyx-signature-ed25519"],
        timestamp=headers["telnyx-timestamp"],
        public_key=sandbox.public_key_b64,
    )
    event = parse_webhook(item.body)
    assert event.event_type == "portout.new_comment"
    assert event.portout_id == po.id and event.comment_id == comment.id and event.attempt == 1


def test_client_retries_through_429_500_503_and_drops(client: TelnyxClient, sandbox, waits) -> None:
    sandbox.faults.configure(retry_after=2)
    sandbox.faults.queue("429", "500", "drop")
    po = _pending(sandbox)
    assert client.get_portout(po.id).id == po.id
    assert sandbox.faults.counts == {"429": 1, "500": 1, "drop": 1}
    assert waits[0] == 2  # honoured Retry-After
    sandbox.faults.queue("503", "429")
    assert client.update_portout_status(po.id, status="authorized", reason="").status == (
        "authorized"
    )
    assert [r[2] for r in list(sandbox.requests)[-3:]] == [503, 429, 200]


def test_client_gives_up_after_max_retries(client: TelnyxClient, sandbox) -> None:
    sandbox.faults.configure(rate_limit_ratio=1.0)
    with pytest.raises(RateLimitError):
        client.get_portout(_pending(sandbox).id)
    assert sandbox.faults.counts["429"] == 4
    sandbox.faults.configure(rate_limit_ratio=0.0, error_ratio=1.0)
    with pytest.raises(InternalServerError):
        list(client.list_portouts())
    sandbox.faults.configure(error_ratio=0.0, drop_ratio=1.0)
    with pytest.raises(APIConnectionError):
        client.get_portout(_pending(sandbox).id)


def test_client_does_not_repeat_a_comment_after_a_drop(client: TelnyxClient, sandbox) -> None:
    po = _pending(sandbox)
    before = len(sandbox.state.comments.get(po.id, []))
    sandbox.faults.queue("drop")
    with pytest.raises(APIConnectionError):
        client.create_comment(po.id, body="only once")
    assert len(sandbox.state.comments.get(po.id, [])) == before


def test_client_times_out_on_slow_responses(sandbox, waits) -> None:
    sandbox.faults.configure(slow_ratio=1.0, slow_seconds=0.6)
    with (
        TelnyxClient(
            "KEYp", base_url=sandbox.base_url, timeout=0.2, max_retries=1, sleep=waits.append
        ) as slow_client,
        pytest.raises(APITimeoutError),
    ):
        slow_client.get_portout(_pending(sandbox).id)
    assert sandbox.faults.counts["slow"] == 2


def test_client_through_latency(client: TelnyxClient, sandbox) -> None:
    sandbox.faults.configure(latency_ms=50)
    assert client.get_portout(_pending(sandbox).id).status == "pending"


def test_get_client_from_settings(sandbox_settings) -> None:
    from portouts.telnyx import get_client

    client = get_client()
    assert client.base_url == sandbox_settings.base_url
    assert client.get_portout(_pending(sandbox_settings).id).status == "pending"
    get_client.cache_clear()


# ================================================================ official telnyx SDK


@pytest.fixture
def sdk(sandbox: SandboxServer):
    client = telnyx.Telnyx(
        api_key="KEYofficial",
        base_url=sandbox.base_url,
        public_key=sandbox.public_key_b64,
        max_retries=0,
        timeout=5,
    )
    yield client
    client.close()


def test_sdk_lists_with_auto_pagination_and_filters(sdk: telnyx.Telnyx, sandbox) -> None:
    ids = [p.id for p in sdk.portouts.list(page_size=9)]
    assert sorted(ids) == sorted(sandbox.state.portouts)
    pending = list(sdk.portouts.list(filter={"status": "pending"}, page_size=5))
    expected = {p.id for p in sandbox.state.portouts.values() if p.status == "pending"}
    assert {p.id for p in pending} == expected
    both = list(sdk.portouts.list(filter={"status_in": ["pending", "canceled"]}, page_size=50))
    assert {p.status for p in both} == {"pending", "canceled"}
    since = datetime.now(UTC) - timedelta(days=2)
    recent = list(sdk.portouts.list(filter={"inserted_at": {"gte": since}}))
    assert recent and len(recent) < len(sandbox.state.portouts)


def test_sdk_retrieve_update_status_and_rejection_codes(sdk: telnyx.Telnyx, sandbox) -> None:
    po = _pending(sandbox)
    assert sdk.portouts.retrieve(po.id).data.support_key == po.support_key
    codes = sdk.portouts.list_rejection_codes(po.id).data
    assert {c.code for c in codes} == set(po.rejection_codes)
    one = sdk.portouts.list_rejection_codes(po.id, filter={"code": 1002}).data
    assert [c.code for c in one] == [1002]
    updated = sdk.portouts.update_status("rejected-pending", id=po.id, reason="Not our customer")
    assert updated.data.status == "rejected-pending"
    with pytest.raises(telnyx.UnprocessableEntityError):
        sdk.portouts.update_status("authorized", id=po.id, reason="")
    with pytest.raises(telnyx.NotFoundError):
        sdk.portouts.retrieve("00000000-0000-4000-8000-000000000000")


def test_sdk_comments_and_supporting_documents(sdk: telnyx.Telnyx, sandbox) -> None:
    po = _pending(sandbox)
    created = sdk.portouts.comments.create(po.id, body="From the official SDK")
    assert created.data.body == "From the official SDK"
    assert sdk.portouts.comments.list(po.id).data[-1].id == created.data.id
    doc = sdk.documents.upload_json(
        document={"file": "JVBERi0xLjQgbG9h", "filename": "loa.pdf"}
    ).data
    attached = sdk.portouts.supporting_documents.create(
        po.id, documents=[{"type": "loa", "document_id": doc.id}]
    )
    assert attached.data[0].document_id == doc.id
    assert [d.id for d in sdk.portouts.supporting_documents.list(po.id).data] == [
        attached.data[0].id
    ]


def test_sdk_events(sdk: telnyx.Telnyx, sandbox) -> None:
    po = _pending(sandbox)
    events = list(sdk.portouts.events.list(filter={"portout_id": po.id}))
    assert events and {e.portout_id for e in events} == {po.id}
    typed = sdk.portouts.events.list(filter={"event_type": "portout.new_comment"}, page_size=3)
    assert all(e.event_type == "portout.new_comment" for e in typed.data)
    assert sdk.portouts.events.retrieve(events[0].id).data.id == events[0].id
    sdk.portouts.events.republish(events[0].id)


def test_sdk_reports(sdk: telnyx.Telnyx, sandbox) -> None:
    created = sdk.portouts.reports.create(
        report_type="export_portouts_csv", params={"filters": {"status__in": ["ported"]}}
    ).data
    assert created.status == "pending"
    fetched = sdk.portouts.reports.retrieve(created.id).data
    assert fetched.status == "completed" and fetched.document_id
    listed = list(sdk.portouts.reports.list(filter={"status": "completed"}))
    assert [r.id for r in listed] == [created.id]


def test_sdk_verifies_sandbox_webhooks(sdk: telnyx.Telnyx, sandbox, webhook_receiver) -> None:
    sandbox.webhook_url = webhook_receiver.url
    po = _pending(sandbox)
    sandbox.state.change_status(po.id, "canceled")
    item = webhook_receiver.wait_for(1)[0]
    verify_webhook_signature(item.body, item.headers, sandbox.public_key_b64)
    event = sdk.webhooks.unwrap(item.body.decode(), headers=item.headers)
    assert event is not None
    with pytest.raises(telnyx.lib.webhook_verification.WebhookVerificationError):
        verify_webhook_signature(item.body + b" ", item.headers, sandbox.public_key_b64)
