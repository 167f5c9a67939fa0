"""Uploads: the size limit is enforced while the body is read, before Django stores the file."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.files.uploadhandler import SkipFile, TemporaryFileUploadHandler

from portouts.models import ReviewAction
from portouts.telnyx import MAX_DOCUMENT_BYTES
from portouts.upload_handlers import DocumentSizeLimitHandler


@pytest.fixture(autouse=True)
def _fast(fast_passwords):
    pass


def _handler(limit: int) -> DocumentSizeLimitHandler:
    handler = DocumentSizeLimitHandler(limit=limit)
    handler.new_file("file", "a.pdf", "application/pdf", None)
    return handler


def test_handler_passes_chunks_up_to_the_limit_and_skips_past_it():
    handler = _handler(10)
    assert handler.receive_data_chunk(b"12345", 0) == b"12345"
    assert handler.receive_data_chunk(b"67890", 5) == b"67890"  # exactly the limit
    assert handler.too_large == set()
    with pytest.raises(SkipFile):
        handler.receive_data_chunk(b"x", 10)
    assert handler.too_large == {"file"}
    assert handler.file_complete(11) is None  # the next handler builds the file


def test_default_limit_is_telnyx_limit():
    assert DocumentSizeLimitHandler().limit == MAX_DOCUMENT_BYTES == 20 * 1024 * 1024


def test_a_file_past_the_limit_is_never_stored_whole(reviewer_client, make_portout, monkeypatch):
    stored: list[int] = []
    original = TemporaryFileUploadHandler.receive_data_chunk

    def counting(self, raw_data, start):
        stored.append(len(raw_data))
        return original(self, raw_data, start)

    monkeypatch.setattr(TemporaryFileUploadHandler, "receive_data_chunk", counting)
    po = make_portout()
    big = SimpleUploadedFile("big.pdf", b"%PDF-" + b"0" * MAX_DOCUMENT_BYTES, "application/pdf")
    response = reviewer_client.post(
        f"/portouts/{po.id}/documents/",
        {"document_type": "loa", "file": big},
        headers={"HX-Request": "true"},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "The file is larger than 20 MB, Telnyx&#x27;s limit." in html
    assert 'aria-invalid="true"' in html
    assert "This field is required" not in html
    assert sum(stored) <= MAX_DOCUMENT_BYTES  # the rest was read and dropped
    assert not ReviewAction.objects.exists()


def test_a_small_file_still_reaches_the_form(reviewer_client, make_portout):
    po = make_portout()
    response = reviewer_client.post(
        f"/portouts/{po.id}/documents/",
        {"document_type": "loa", "file": SimpleUploadedFile("n.txt", b"hello")},
    )
    assert "is not a PDF, JPEG, PNG or TIFF file" in response.content.decode()
