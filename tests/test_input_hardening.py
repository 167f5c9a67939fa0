"""Input no Telnyx id or form field holds (NUL bytes, odd characters): 404 or 400, never 500.

On PostgreSQL a NUL byte in a query parameter makes the query fail (a 500); on SQLite the
same request passes, so the id tests also check that such URLs do not resolve at all.
"""

from __future__ import annotations

import re
from urllib.parse import urlencode

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import Resolver404, resolve, reverse

from portal.middleware import NUL_REFUSED
from portouts import urls as portout_urls
from portouts.models import PortOutEvent, ReviewAction, SupportingDocument
from tests.test_foundation import _walk

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast(fast_passwords):
    pass


PARAMETER = re.compile(r"<(?:(\w+):)?(\w+)>")
GOOD_VALUES = {"int": "1", "uuid": "00000000-0000-4000-8000-000000000001"}
#: Path segments (as sent, percent-encoded) that no Telnyx id can be.
BAD_IDS = [
    "%00",
    "po-1%00",
    "po%001",
    "po%201",
    "po%3Cb%3E",
    "-po-1",
    ".po-1",
    "po%C3%A91",
    "x" * 256,
]


def _path(route: str, values: list[str]) -> str:
    filling = iter(values)
    return "/" + PARAMETER.sub(lambda _match: next(filling), route)


def _paths_with_a_bad_id() -> list[tuple[str, str]]:
    """(url name, path) for every parameter of every portouts URL, that parameter bad."""
    cases = []
    for route, name in _walk(portout_urls.urlpatterns):
        params = PARAMETER.findall(route)
        for index in range(len(params)):
            for bad in BAD_IDS:
                values = [
                    bad if i == index else GOOD_VALUES.get(converter, "po-1")
                    for i, (converter, _name) in enumerate(params)
                ]
                cases.append((name, _path(route, values)))
    return cases


BAD_ID_PATHS = _paths_with_a_bad_id()


def test_every_id_of_the_portouts_app_is_covered():
    names = {name for name, _path in BAD_ID_PATHS}
    assert {
        "detail",
        "authorize",
        "reject",
        "comment",
        "upload",
        "document_download",
        "event_republish",
        "report_retry",
        "report_download",
        "sync_progress",
    } <= names


@pytest.mark.parametrize(("name", "path"), BAD_ID_PATHS)
def test_a_bad_id_is_a_404_for_get_and_post(reviewer_client, name, path):
    for method in (reviewer_client.get, reviewer_client.post):
        response = method(path)
        assert response.status_code == 404, (method.__name__, path, response.status_code)


@pytest.mark.parametrize("bad", ["%00", "po-1%00", "po%3Cb%3E"])
def test_a_bad_id_does_not_even_resolve(bad):
    with pytest.raises(Resolver404):
        resolve(f"/portouts/{bad}/")


def test_ids_of_every_shape_telnyx_uses_still_work(viewer_client, make_portout):
    for portout_id in ("3e8f1c2a-5b6d-4e7f-8a9b-0c1d2e3f4a5b", "po-1", "PO.2:x", "7"):
        make_portout(id=portout_id)
        response = viewer_client.get(reverse("portouts:detail", args=[portout_id]))
        assert response.status_code == 200, portout_id
    listing = viewer_client.get(reverse("portouts:list"))
    assert listing.status_code == 200
    assert 'href="/portouts/PO.2%3Ax/"' in listing.content.decode()


def test_a_document_download_with_a_bad_document_id_is_a_404(reviewer_client, make_portout):
    portout = make_portout(id="po-doc")
    SupportingDocument.objects.create(
        id="sd-1", portout=portout, type="loa", document_id="doc-1", created_at=portout.created_at
    )
    response = reviewer_client.get(f"/portouts/{portout.id}/documents/%00/download/")
    assert response.status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/admin/portouts/portout/%00/change/",
        "/admin/portouts/portout/po%00x/change/",
        "/admin/portouts/portoutevent/%00/change/",
        "/admin/portouts/portoutevent/%00/delete/",
        "/accounts/login/%00",
        "/%00",
    ],
)
def test_a_nul_anywhere_in_the_address_is_a_404(admin_client_user, path):
    assert admin_client_user.get(path).status_code == 404


# --------------------------------------------------------------------------- NUL in values


@pytest.mark.parametrize(
    "url",
    [
        "/?q=%00",
        "/portouts/?q=%00",
        "/portouts/?q=po%00x",
        "/portouts/?spid=%00&status=pending",
        "/portouts/?page=%00",
        "/portouts/?%00=1",
        "/events/?portout=%00",
        "/events/?event_type=%00",
        "/reports/?q=%00",
        "/sync/?q=%00",
        "/admin/portouts/portout/?q=%00",
    ],
)
def test_a_nul_in_the_query_string_is_a_400_with_a_plain_sentence(admin_client_user, url):
    response = admin_client_user.get(url)
    assert response.status_code == 400, url
    assert response["Content-Type"].startswith("text/plain")
    assert response.content.decode() == NUL_REFUSED


def test_a_nul_in_a_posted_form_is_a_400(reviewer_client, make_portout):
    portout = make_portout(id="po-nul")
    for name, data in [
        ("comment", {"body": "Hello\x00"}),
        ("authorize", {"note": "\x00"}),
        ("reject", {"reason": "x", "rejection_code": "1001\x00"}),
    ]:
        response = reviewer_client.post(
            reverse(f"portouts:{name}", args=[portout.id]),
            urlencode(data),
            content_type="application/x-www-form-urlencoded",  # as browsers and htmx send forms
        )
        assert response.status_code == 400, name
        assert response.content.decode() == NUL_REFUSED


def test_a_nul_in_the_sign_in_form_is_a_400(client, viewer):
    response = client.post(
        reverse("login"),
        urlencode({"username": "vera\x00", "password": "x"}),
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 400


def test_a_nul_in_an_upload_form_is_a_form_error(reviewer_client, make_portout):
    """Multipart bodies are left to their forms (the upload size limit reads them first)."""
    portout = make_portout(id="po-up", status="authorized")  # no rejection codes to fetch
    response = reviewer_client.post(
        reverse("portouts:upload", args=[portout.id]),
        {
            "document_type": "loa\x00",
            "file": SimpleUploadedFile("loa\x00.pdf", b"%PDF-1.4\n", "application/pdf"),
        },
    )
    assert response.status_code == 200
    assert "document_type" in response.context["upload_form"].errors
    assert not ReviewAction.objects.exists()  # nothing went to Telnyx


def test_the_events_filter_refuses_an_id_telnyx_cannot_have(viewer_client):
    PortOutEvent.objects.create(
        id="ev-1", event_type="portout.status_changed", portout_id="po-a", payload={}
    )
    response = viewer_client.get(reverse("portouts:events"), {"portout": "po a<b>"})
    assert response.status_code == 200
    assert b"Enter a support key (PO_779658) or a port-out id" in response.content
    assert b"Events of port-out" not in response.content

    response = viewer_client.get(reverse("portouts:events"), {"portout": "po-a"})
    assert b"Events of port-out" in response.content
    assert b'<tr id="event-ev-1"' in response.content
