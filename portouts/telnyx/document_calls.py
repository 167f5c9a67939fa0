"""The Documents API: upload a file, read its metadata, download or stream its bytes.

An upload is sent with `retry="not_sent"` (a retry could store the file twice) and
refused before sending when it is over Telnyx's limit.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from .errors import DocumentTooLargeError
from .query import segment
from .transport import Transport
from .types import DocumentData

__all__ = ["MAX_DOCUMENT_BYTES", "DocumentCalls"]

#: Telnyx Documents refuses files above 20 MB; we refuse them before uploading.
MAX_DOCUMENT_BYTES = 20 * 1024 * 1024


class DocumentCalls(Transport):
    def upload_document(
        self,
        *,
        filename: str,
        content: bytes,
        content_type: str,
        customer_reference: str | None = None,
    ) -> DocumentData:
        """Upload a file (multipart) to Telnyx Documents.

        Attach it to a port-out soon: Telnyx deletes documents left unlinked for
        30 minutes. Files over 20 MB are refused here, before any upload.
        """
        if len(content) > MAX_DOCUMENT_BYTES:
            raise DocumentTooLargeError(
                f"{filename!r} is {len(content) / (1024 * 1024):.1f} MB; Telnyx accepts "
                f"documents of at most {MAX_DOCUMENT_BYTES // (1024 * 1024)} MB."
            )
        if not content:
            raise ValueError(f"{filename!r} is empty")
        form = {"customer_reference": customer_reference} if customer_reference else None
        data = self._get_object(
            "POST",
            "/documents",
            files={"file": (filename, content, content_type)},
            data=form,
            retry="not_sent",
        )
        return DocumentData.from_api(data)

    def get_document(self, document_id: str) -> DocumentData:
        path = f"/documents/{segment(document_id, 'document_id')}"
        return DocumentData.from_api(self._get_object("GET", path))

    def download_document(self, document_id: str) -> bytes:
        """The document's bytes, read into memory (use `stream_document` for big files)."""
        path = f"/documents/{segment(document_id, 'document_id')}/download"
        response = self._send("GET", path, headers={"Accept": "application/octet-stream"})
        return response.content

    @contextmanager
    def stream_document(
        self, document_id: str, *, chunk_size: int = 64 * 1024
    ) -> Iterator[Iterator[bytes]]:
        """Yield an iterator over the document's bytes without holding it all in memory.

        Opening the download is retried like any GET; a failure mid-stream raises
        `APIConnectionError` (the caller restarts the download if it wants).
        """
        path = f"/documents/{segment(document_id, 'document_id')}/download"
        response = self._send(
            "GET", path, stream=True, headers={"Accept": "application/octet-stream"}
        )
        try:
            yield self._iter_stream(response, path, chunk_size)
        finally:
            response.close()

    def _iter_stream(self, response: httpx.Response, path: str, chunk_size: int) -> Iterator[bytes]:
        try:
            yield from response.iter_bytes(chunk_size)
        except httpx.RequestError as exc:
            raise self._connection_error(exc, "GET", path, 1, "always") from exc
