"""Who may act: viewers get 403 and nothing reaches Telnyx; CSRF on every form; POST only."""

from __future__ import annotations

import pytest
import respx
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from portouts.models import RejectionCode, ReviewAction
from tests.conftest import PASSWORD


@pytest.fixture(autouse=True)
def _fast(fast_passwords):
    pass


@pytest.fixture
def portout(make_portout):
    po = make_portout(id="po-act")
    RejectionCode.objects.create(portout=po, code=1002, description="Invalid PIN")
    return po


def posts(portout_id: str) -> list[tuple[str, dict]]:
    base = f"/portouts/{portout_id}/"
    return [
        (base + "authorize/", {"note": "ok", "step": "confirm", "idempotency_key": "k" * 32}),
        (
            base + "reject/",
            {
                "rejection_code": "1002",
                "reason": "x",
                "step": "confirm",
                "idempotency_key": "j" * 32,
            },
        ),
        (base + "comments/", {"body": "hello"}),
        (
            base + "documents/",
            {
                "document_type": "loa",
                "file": SimpleUploadedFile("a.pdf", b"%PDF-1.4 x", "application/pdf"),
            },
        ),
    ]


def test_viewer_posting_any_action_gets_403_and_telnyx_is_not_called(viewer_client, portout):
    with respx.mock(assert_all_mocked=True, assert_all_called=False) as router:
        for path, data in posts(portout.id):
            response = viewer_client.post(path, data)
            assert response.status_code == 403, path
            assert "Nothing was sent to Telnyx" in response.content.decode()
        assert router.calls.call_count == 0
    assert not ReviewAction.objects.exists()


def test_signed_out_posts_go_to_sign_in(client, portout):
    with respx.mock(assert_all_mocked=True) as router:
        for path, data in posts(portout.id):
            response = client.post(path, data)
            assert response.status_code == 302 and "/accounts/login/" in response["Location"]
        assert router.calls.call_count == 0


def test_every_form_needs_the_csrf_token(reviewer, portout):
    client = Client(enforce_csrf_checks=True)
    assert client.login(username=reviewer.username, password=PASSWORD)
    with respx.mock(assert_all_mocked=True) as router:
        for path, data in posts(portout.id):
            assert client.post(path, data).status_code == 403, path
        assert router.calls.call_count == 0
    html = client.get(f"/portouts/{portout.id}/").content.decode()
    assert html.count("csrfmiddlewaretoken") >= 4  # authorize, reject, comment, upload


def test_actions_are_post_only(reviewer_client, portout):
    for path, _data in posts(portout.id):
        assert reviewer_client.get(path).status_code == 405


def test_unknown_portout_is_404_without_calling_telnyx(reviewer_client, db):
    with respx.mock(assert_all_mocked=True) as router:
        for path, data in posts("does-not-exist"):
            assert reviewer_client.post(path, data).status_code == 404, path
        assert router.calls.call_count == 0
