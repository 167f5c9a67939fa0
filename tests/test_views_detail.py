"""The port-out page: fields, timeline, documents, rejection codes, polling, 404."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from portouts.models import (
    Comment,
    PortOut,
    PortOutEvent,
    RejectionCode,
    ReviewAction,
    SupportingDocument,
)


@pytest.fixture(autouse=True)
def _fast(fast_passwords):
    pass


def url(portout_id: str, suffix: str = "") -> str:
    return f"/portouts/{portout_id}/{suffix}"


def test_unknown_id_is_a_404_page(viewer_client, db):
    response = viewer_client.get(url("nope"))
    assert response.status_code == 404
    assert "Not found" in response.content.decode()
    assert "Port-out review" in response.content.decode()  # the site's own page


def test_every_field_grouped(viewer_client, make_portout):
    po = make_portout(
        id="po-1",
        phone_numbers=["+13125550100", "+13125550101"],
        service_address="1 Main St",
        city="Chicago",
        state="IL",
        zip="60601",
        current_carrier="telnyx",
        vendor="vend-1",
        lsr=["https://lsr.example/a.pdf", "javascript:alert(1)"],
        reason="",
        rejection_code=None,
        already_ported=True,
        host_messaging=True,
    )
    html = viewer_client.get(url(po.id)).content.decode()
    for text in [
        "End user",
        "Gaining carrier",
        "Technical details",
        "LSR links",
        "+13125550100, +13125550101",
        "1 Main St",
        "Chicago",
        "60601",
        po.pon,
        po.spid,
        "vend-1",
        "Kept on Telnyx",
        po.authorized_name,
    ]:
        assert text in html, text
    assert 'href="https://lsr.example/a.pdf"' in html
    assert 'href="javascript:' not in html  # only web links become links
    assert po.foc_date.strftime("%Y-%m-%d") in html


def test_timeline_merges_events_comments_and_actions_in_time_order(
    viewer_client, make_portout, reviewer
):
    po = make_portout(id="po-t")
    now = timezone.now()
    PortOutEvent.objects.create(
        id="e1",
        event_type="portout.status_changed",
        portout_id=po.id,
        payload_status="pending",
        created_at=now - timedelta(hours=3),
        source="api",
    )
    Comment.objects.create(
        id="c1", portout=po, body="Telnyx here", created_at=now - timedelta(hours=2)
    )
    action = ReviewAction.objects.create(
        portout=po,
        user=reviewer,
        kind="reject",
        inputs={"rejection_code": 1002, "reason": "PIN wrong"},
        outcome="failed",
        error="Telnyx is receiving too many requests from this account (429).",
    )
    ReviewAction.objects.filter(pk=action.pk).update(created_at=now - timedelta(hours=1))
    response = viewer_client.get(url(po.id))
    timeline = response.context["timeline"]
    assert [i.kind for i in timeline] == ["review", "comment", "event"]  # newest first
    html = response.content.decode()
    assert "Reject with code 1002" in html and "PIN wrong" in html and "(429)" in html
    assert "Telnyx staff" in html and "rita" in html


def test_viewer_gets_a_read_only_panel(viewer_client, make_portout):
    po = make_portout()
    RejectionCode.objects.create(portout=po, code=1002, description="Invalid PIN")
    html = viewer_client.get(url(po.id)).content.decode()
    assert "Read-only" in html
    assert "authorize/" not in html and "reject/" not in html
    assert 'id="comment-form"' not in html and 'id="upload-form"' not in html


def test_reviewer_gets_the_decision_forms_with_eligible_codes(reviewer_client, make_portout):
    po = make_portout()
    RejectionCode.objects.create(portout=po, code=1001, description="Other", reason_required=True)
    RejectionCode.objects.create(portout=po, code=1002, description="Invalid PIN")
    html = reviewer_client.get(url(po.id)).content.decode()
    assert f'action="/portouts/{po.id}/authorize/"' in html
    assert f'action="/portouts/{po.id}/reject/"' in html
    assert "1001 — Other (reason required)" in html and 'data-reason-required="true"' in html
    assert "1002 — Invalid PIN<" in html
    # What is sent when the reason is left empty, for the page's script to show.
    assert 'data-reason-when-empty="Invalid PIN"' in html
    assert "csrfmiddlewaretoken" in html


def test_missing_rejection_codes_are_fetched_from_telnyx_by_the_reject_step(
    reviewer_client, synced
):
    po = PortOut.objects.pending().first()
    RejectionCode.objects.filter(portout=po).delete()
    synced.requests.clear()
    response = reviewer_client.get(url(po.id))
    assert not synced.requests  # drawing the page never asks Telnyx
    assert "Load rejection codes from Telnyx" in response.content.decode()
    response = reviewer_client.post(url(po.id, "reject/"), {"step": "codes"})
    expected = set(synced.state.get_portout(po.id).rejection_codes)
    assert {c.code for c in response.context["codes"]} == expected
    assert set(RejectionCode.objects.filter(portout=po).values_list("code", flat=True)) == expected
    assert len(synced.requests) == 1 and "errorlist" not in response.content.decode()


def test_decided_portout_shows_no_forms(reviewer_client, make_portout):
    po = make_portout(status="authorized")
    html = reviewer_client.get(url(po.id)).content.decode()
    assert "No decision needed" in html and "Review authorization" not in html


def test_polling_204_until_something_changes(viewer_client, make_portout):
    po = make_portout()
    page = viewer_client.get(url(po.id))
    headers = {
        "HX-Request": "true",
        "X-Cache-Version": page.context["version"],
        "X-Portout-Status": "pending",
    }
    assert viewer_client.get(url(po.id), headers=headers).status_code == 204
    Comment.objects.create(id="c9", portout=po, body="New from Telnyx", created_at=timezone.now())
    response = viewer_client.get(url(po.id), headers=headers)
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="timeline" class="timeline-wrap" hx-swap-oob="true"' in html
    assert "New from Telnyx" in html
    assert 'id="decision"' not in html  # a half-filled form is left alone
    PortOut.objects.filter(id=po.id).update(status="authorized", synced_at=timezone.now())
    html = viewer_client.get(url(po.id), headers=headers).content.decode()
    assert 'id="decision"' in html and "No decision needed" in html


def test_htmx_decision_partial(reviewer_client, make_portout):
    po = make_portout()
    response = reviewer_client.get(url(po.id) + "?partial=decision", headers={"HX-Request": "true"})
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="decision"') and "<html" not in html


def test_document_download_streams_bytes_from_telnyx(viewer_client, synced):
    sandbox = synced
    po = PortOut.objects.pending().first()
    doc = sandbox.state.create_document(
        filename="loa.pdf", content=b"%PDF-1.4 test loa", content_type="application/pdf"
    )
    sandbox.state.add_supporting_documents(po.id, [{"type": "loa", "document_id": doc.id}])
    from portouts import sync

    sync.refresh_portout(po.id)
    assert SupportingDocument.objects.filter(portout=po, document_id=doc.id).exists()
    html = viewer_client.get(url(po.id)).content.decode()
    link = f"/portouts/{po.id}/documents/{doc.id}/download/"
    assert link in html
    response = viewer_client.get(link)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"%PDF-1.4 test loa"
    assert response["Content-Disposition"] == 'attachment; filename="loa.pdf"'
    assert Client().get(link).status_code == 302  # sign-in required
    assert viewer_client.get(f"/portouts/{po.id}/documents/other/download/").status_code == 404


def _document(synced, *, filename: str, content: bytes, content_type: str):
    po = PortOut.objects.pending().first()
    doc = synced.state.create_document(
        filename=filename, content=content, content_type=content_type
    )
    synced.state.add_supporting_documents(po.id, [{"type": "loa", "document_id": doc.id}])
    from portouts import sync

    sync.refresh_portout(po.id)
    return f"/portouts/{po.id}/documents/{doc.id}/download/"


def test_download_of_another_type_is_sent_as_octet_stream(viewer_client, synced):
    link = _document(
        synced, filename="page.html", content=b"<script>alert(1)</script>", content_type="text/html"
    )
    response = viewer_client.get(link)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/octet-stream"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"] == 'attachment; filename="page.html"'
    assert b"".join(response.streaming_content) == b"<script>alert(1)</script>"


@pytest.mark.parametrize("content_type", ["image/png", "image/tiff", "image/jpeg"])
def test_download_passes_telnyx_document_types_through(viewer_client, synced, content_type):
    link = _document(synced, filename="scan", content=b"\x89PNG", content_type=content_type)
    response = viewer_client.get(link)
    assert response["Content-Type"] == content_type
    b"".join(response.streaming_content)


def test_download_filename_header_is_built_safely(viewer_client, synced):
    link = _document(
        synced,
        filename="Lettre d'autorisation é.pdf",
        content=b"%PDF-1",
        content_type="application/pdf",
    )
    response = viewer_client.get(link)
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment; filename*=utf-8''")
    assert "%C3%A9" in disposition and '"' not in disposition
    b"".join(response.streaming_content)


def test_download_closed_unread_releases_the_telnyx_stream(viewer_client, synced, monkeypatch):
    from contextlib import contextmanager

    from portouts.telnyx import TelnyxClient

    link = _document(synced, filename="a.pdf", content=b"%PDF-1", content_type="application/pdf")
    opened: list[str] = []
    original = TelnyxClient.stream_document

    @contextmanager
    def tracked(self, document_id, **kwargs):
        opened.append("open")
        with original(self, document_id, **kwargs) as chunks:
            yield chunks
        opened.append("closed")

    monkeypatch.setattr(TelnyxClient, "stream_document", tracked)
    response = viewer_client.get(link)
    assert opened == ["open"]
    response.close()  # what the server does when the client goes away before reading
    assert opened == ["open", "closed"]
    response.close()  # closing twice is harmless
    assert opened == ["open", "closed"]


def test_poll_headers_are_json_whatever_the_status(viewer_client, make_portout):
    import json
    import re
    from html import unescape

    po = make_portout(status='odd"}, "X-Evil": "1')
    html = viewer_client.get(url(po.id)).content.decode()
    attr = re.search(r'<div id="poller"[^>]*hx-headers="([^"]*)"', html)
    assert attr, "the poller carries its headers in a double-quoted attribute"
    headers = json.loads(unescape(attr.group(1)))
    assert headers == {
        "X-Cache-Version": viewer_client.get(url(po.id)).context["version"],
        "X-Portout-Status": 'odd"}, "X-Evil": "1',
    }


def test_times_are_labelled_with_their_zone(viewer_client, make_portout, settings):
    from datetime import UTC, datetime

    settings.TIME_ZONE = "America/Chicago"
    settings.REVIEW_WINDOW_HOURS = 24 * 365 * 10  # keep it pending with a deadline
    po = make_portout(created_at=datetime(2026, 1, 15, 18, 30, tzinfo=UTC))
    html = viewer_client.get(url(po.id)).content.decode()
    assert "<dt>Created</dt><dd>2026-01-15 12:30 CST</dd>" in html
    assert re.search(r"by \d{4}-\d\d-\d\d \d\d:\d\d C[SD]T\)", html)
    assert f"<strong>{po.foc_date.astimezone(UTC):%Y-%m-%d}</strong>" in html  # FOC: a date
