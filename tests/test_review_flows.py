"""Decision, comment and upload flows through the pages, against the Telnyx sandbox."""

from __future__ import annotations

import re
from html import unescape

import httpx
import pytest
import respx
from django.core.files.uploadedfile import SimpleUploadedFile

from portouts.models import Comment, PortOut, ReviewAction, SupportingDocument

PATCH = re.compile(r"/portouts/[^/]+/(authorized|rejected-pending)$")


@pytest.fixture(autouse=True)
def _fast(fast_passwords):
    pass


def patches(sandbox) -> list:
    return [r for r in sandbox.requests if r[0] == "PATCH"]


def confirm_key(response) -> str:
    match = re.search(r'name="idempotency_key" value="([0-9a-f]{32})"', response.content.decode())
    assert match, "the confirm form carries an idempotency key"
    return match.group(1)


def authorize(client, portout_id: str, **data):
    """Both steps: review, then confirm with the key generated on the confirm form."""
    url = f"/portouts/{portout_id}/authorize/"
    first = client.post(url, data)
    assert first.status_code == 200
    assert "Confirm authorization" in first.content.decode()
    return client.post(url, {**data, "step": "confirm", "idempotency_key": confirm_key(first)})


def reject(client, portout_id: str, **data):
    url = f"/portouts/{portout_id}/reject/"
    first = client.post(url, data)
    assert first.status_code == 200
    if "Confirm rejection" not in first.content.decode():
        return first
    return client.post(url, {**data, "step": "confirm", "idempotency_key": confirm_key(first)})


def test_authorize(reviewer_client, synced, pending_portout):
    response = authorize(reviewer_client, pending_portout)
    assert response.status_code == 302
    page = reviewer_client.get(response["Location"])
    assert "Authorized PO_" in page.content.decode()
    remote = synced.state.get_portout(pending_portout)
    assert remote.status == "authorized" and remote.reason == "Authorized by rita"
    assert PortOut.objects.get(id=pending_portout).status == "authorized"
    action = ReviewAction.objects.get()
    assert action.kind == "authorize" and action.outcome == "succeeded"
    assert action.inputs == {"reason": "Authorized by rita", "host_messaging": False}
    assert action.response["status"] == "authorized" and action.finished_at
    assert len(patches(synced)) == 1


def test_authorize_with_note_and_host_messaging(reviewer_client, synced, pending_portout):
    first = reviewer_client.post(
        f"/portouts/{pending_portout}/authorize/", {"note": "Verified", "host_messaging": "on"}
    )
    html = first.content.decode()
    assert "Reason sent</dt><dd>Verified" in html and "stays hosted on Telnyx" in html
    authorize(reviewer_client, pending_portout, note="Verified", host_messaging="on")
    remote = synced.state.get_portout(pending_portout)
    assert remote.reason == "Verified" and remote.host_messaging is True


def test_reject_with_a_reason_required_code(reviewer_client, synced, pending_portout):
    first = reviewer_client.post(
        f"/portouts/{pending_portout}/reject/", {"rejection_code": "1001", "reason": "Fraud"}
    )
    assert re.search(r"Reject PO_\d+ with code 1001 \(Other\)\?", first.content.decode())
    response = reject(reviewer_client, pending_portout, rejection_code="1001", reason="Fraud")
    assert response.status_code == 302
    remote = synced.state.get_portout(pending_portout)
    assert (remote.status, remote.rejection_code, remote.reason) == (
        "rejected-pending",
        1001,
        "Fraud",
    )
    assert PortOut.objects.get(id=pending_portout).status == "rejected-pending"


def test_reject_with_an_optional_code_sends_its_description(
    reviewer_client, synced, pending_portout
):
    remote = synced.state.get_portout(pending_portout)
    code = next(c for c in remote.rejection_codes if c != 1001)
    response = reject(reviewer_client, pending_portout, rejection_code=str(code), reason="")
    assert response.status_code == 302
    from telnyx_sandbox.state import REJECTION_CATALOG

    remote = synced.state.get_portout(pending_portout)
    assert remote.status == "rejected-pending" and remote.reason == REJECTION_CATALOG[code][0]


def test_a_rejection_reads_the_eligible_codes_once_per_request(
    reviewer_client, synced, pending_portout
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    first = reviewer_client.post(
        f"/portouts/{pending_portout}/reject/", {"rejection_code": "1001", "reason": "Fraud"}
    )
    data = {"rejection_code": "1001", "reason": "Fraud", "step": "confirm"}
    synced.requests.clear()
    with CaptureQueriesContext(connection) as queries:
        response = reviewer_client.post(
            f"/portouts/{pending_portout}/reject/", {**data, "idempotency_key": confirm_key(first)}
        )
    assert response.status_code == 302
    selects = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT")]
    reads = [sql for sql in selects if "portouts_rejectioncode" in sql.split("WHERE")[0]]
    assert len(reads) == 1, reads
    assert not [r for r in synced.requests if r[1].startswith("/v2/portouts/rejections")]


def test_missing_reason_for_a_code_that_requires_one(reviewer_client, synced, pending_portout):
    response = reviewer_client.post(
        f"/portouts/{pending_portout}/reject/", {"rejection_code": "1001", "reason": "  "}
    )
    assert response.status_code == 200
    assert "Code 1001 (Other) requires a reason" in response.content.decode()
    # Even a forged confirm is refused before Telnyx is asked to change anything.
    forged = reviewer_client.post(
        f"/portouts/{pending_portout}/reject/",
        {"rejection_code": "1001", "reason": "", "step": "confirm", "idempotency_key": "f" * 32},
    )
    assert "requires a reason" in forged.content.decode()
    assert patches(synced) == []
    assert synced.state.get_portout(pending_portout).status == "pending"


def test_ineligible_code_is_refused(reviewer_client, synced, pending_portout):
    response = reviewer_client.post(
        f"/portouts/{pending_portout}/reject/", {"rejection_code": "9999", "reason": "x"}
    )
    assert "Select a valid choice" in response.content.decode()
    assert patches(synced) == []


def test_stale_status_is_refused_and_the_fresh_state_shown(
    reviewer_client, synced, pending_portout
):
    first = reviewer_client.post(f"/portouts/{pending_portout}/authorize/", {"note": ""})
    synced.state.change_status(pending_portout, "canceled")  # the carrier withdrew meanwhile
    response = reviewer_client.post(
        f"/portouts/{pending_portout}/authorize/",
        {"note": "", "step": "confirm", "idempotency_key": confirm_key(first)},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "is no longer pending: Telnyx now reports it as “Canceled”. Nothing was sent." in html
    assert "No decision needed" in html and "tone-muted" in html
    assert PortOut.objects.get(id=pending_portout).status == "canceled"
    assert patches(synced) == []
    action = ReviewAction.objects.get()
    assert action.outcome == "failed" and "no longer pending" in action.error


@pytest.mark.parametrize(
    ("status", "errors", "expected"),
    [
        (
            422,
            [{"code": "10015", "title": "Port-out is not pending", "detail": "It moved on."}],
            "Telnyx refused the request (422): It moved on.",
        ),
        (429, [{"code": "10011", "title": "Too many requests"}], "too many requests"),
        (500, [], "Telnyx had a server error (500)"),
        (401, [], "did not accept the dashboard's API key (401)"),
        (403, [], "Telnyx refused access (403)"),
    ],
)
def test_api_errors_become_plain_messages(
    reviewer_client, synced, pending_portout, status, errors, expected
):
    first = reviewer_client.post(f"/portouts/{pending_portout}/authorize/", {"note": ""})
    with respx.mock(assert_all_called=False) as router:
        router.patch(url__regex=PATCH.pattern).respond(status, json={"errors": errors})
        router.route().pass_through()
        response = reviewer_client.post(
            f"/portouts/{pending_portout}/authorize/",
            {"note": "", "step": "confirm", "idempotency_key": confirm_key(first)},
        )
    html = unescape(response.content.decode())
    assert response.status_code == 200
    assert expected in html
    assert "Authorized PO_" not in html  # nothing shown as decided
    assert PortOut.objects.get(id=pending_portout).status == "pending"
    assert synced.state.get_portout(pending_portout).status == "pending"
    action = ReviewAction.objects.get()
    assert action.outcome == "failed" and expected in action.error


def test_timeout_is_explained(reviewer_client, synced, pending_portout):
    first = reviewer_client.post(f"/portouts/{pending_portout}/authorize/", {"note": ""})
    with respx.mock(assert_all_called=False) as router:
        router.patch(url__regex=PATCH.pattern).mock(side_effect=httpx.ReadTimeout("slow"))
        router.route().pass_through()
        response = reviewer_client.post(
            f"/portouts/{pending_portout}/authorize/",
            {"note": "", "step": "confirm", "idempotency_key": confirm_key(first)},
        )
    assert "Telnyx did not answer in time" in response.content.decode()


def test_sandbox_fault_on_the_refetch_refuses_before_deciding(
    reviewer_client, synced, pending_portout
):
    first = reviewer_client.post(f"/portouts/{pending_portout}/authorize/", {"note": ""})
    synced.faults.queue("500")
    response = reviewer_client.post(
        f"/portouts/{pending_portout}/authorize/",
        {"note": "", "step": "confirm", "idempotency_key": confirm_key(first)},
    )
    assert "Telnyx had a server error (500)" in response.content.decode()
    assert patches(synced) == []


def test_double_submit_makes_one_api_call(reviewer_client, synced, pending_portout):
    first = reviewer_client.post(
        f"/portouts/{pending_portout}/reject/", {"rejection_code": "1001", "reason": "Dup"}
    )
    data = {
        "rejection_code": "1001",
        "reason": "Dup",
        "step": "confirm",
        "idempotency_key": confirm_key(first),
    }
    one = reviewer_client.post(f"/portouts/{pending_portout}/reject/", data)
    two = reviewer_client.post(f"/portouts/{pending_portout}/reject/", data)
    assert one.status_code == two.status_code == 302
    assert len(patches(synced)) == 1
    assert ReviewAction.objects.count() == 1
    page = reviewer_client.get(two["Location"]).content.decode()
    assert "Rejected PO_" in page  # the recorded result


def test_htmx_confirm_returns_the_panel_and_updates_the_timeline(
    reviewer_client, synced, pending_portout
):
    hx = {"HX-Request": "true"}
    first = reviewer_client.post(
        f"/portouts/{pending_portout}/authorize/", {"note": "hx"}, headers=hx
    )
    html = first.content.decode()
    assert html.lstrip().startswith('<section id="decision"') and "autofocus" in html
    response = reviewer_client.post(
        f"/portouts/{pending_portout}/authorize/",
        {"note": "hx", "step": "confirm", "idempotency_key": confirm_key(first)},
        headers=hx,
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "data-notice>Authorized PO_" in html
    assert 'id="timeline" class="timeline-wrap" hx-swap-oob="true"' in html
    assert 'id="summary" class="summary" hx-swap-oob="true"' in html


def test_comment_is_posted_and_shown_from_telnyx_answer(reviewer_client, synced, pending_portout):
    response = reviewer_client.post(
        f"/portouts/{pending_portout}/comments/",
        {"body": "Please send the CSR.", "idempotency_key": "c" * 32},
        headers={"HX-Request": "true"},
    )
    html = response.content.decode()
    assert "Comment posted to Telnyx." in html and "Please send the CSR." in html
    remote = [c.body for c in synced.state.list_comments(pending_portout)]
    assert "Please send the CSR." in remote
    assert Comment.objects.filter(portout_id=pending_portout, body="Please send the CSR.").exists()
    again = reviewer_client.post(
        f"/portouts/{pending_portout}/comments/",
        {"body": "Please send the CSR.", "idempotency_key": "c" * 32},
    )
    assert again.status_code == 302
    assert [c.body for c in synced.state.list_comments(pending_portout)].count(
        "Please send the CSR."
    ) == 1


def test_upload_attaches_a_pdf_as_loa(reviewer_client, synced, pending_portout):
    pdf = SimpleUploadedFile("signed loa.pdf", b"%PDF-1.4\n%test\n", "application/pdf")
    response = reviewer_client.post(
        f"/portouts/{pending_portout}/documents/", {"document_type": "loa", "file": pdf}
    )
    assert response.status_code == 302
    remote = synced.state.list_supporting_documents(pending_portout)
    assert [d.type for d in remote] == ["loa"]
    assert SupportingDocument.objects.filter(portout_id=pending_portout, type="loa").exists()
    action = ReviewAction.objects.get(kind="upload")
    assert action.outcome == "succeeded" and action.inputs["filename"] == "signed loa.pdf"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("notes.docx", b"PK\x03\x04 word", "is not a PDF, JPEG, PNG or TIFF file"),
        (
            "huge.pdf",
            b"%PDF-" + b"0" * (20 * 1024 * 1024),
            "The file is larger than 20 MB, Telnyx&#x27;s limit.",
        ),
    ],
)
def test_upload_refuses_wrong_types_and_big_files(
    reviewer_client, synced, pending_portout, name, content, message
):
    synced.requests.clear()
    response = reviewer_client.post(
        f"/portouts/{pending_portout}/documents/",
        {"document_type": "invoice", "file": SimpleUploadedFile(name, content)},
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not [r for r in synced.requests if r[0] == "POST"]
    assert not ReviewAction.objects.exists()
