"""Downloading a supporting document: its bytes streamed from Telnyx through the dashboard.

Nothing is stored on the way. Only the file types Telnyx accepts are passed on as such;
anything else goes out as `application/octet-stream`, so the browser never renders it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack

from portouts.documents import safe_filename, served_content_type
from portouts.interactive import interactive_client
from portouts.models import SupportingDocument
from portouts.telnyx import APIError, TelnyxClient, failure_sentence


class DocumentUnavailable(Exception):
    """Telnyx could not give the document; the message says why, for the page."""


class DocumentStream:
    """The body of a download: iterates the Telnyx stream; `close()` releases it.

    Django calls `close()` when the response is closed, whether or not the body was read
    (client gone, an error page replacing it), so the connection always goes back.
    """

    def __init__(
        self, stack: ExitStack, chunks: Iterator[bytes], *, filename: str, content_type: str
    ) -> None:
        self._stack = stack
        self._chunks = chunks
        self.filename = filename
        self.content_type = content_type

    def __iter__(self) -> Iterator[bytes]:
        return self._chunks

    def close(self) -> None:
        self._stack.close()


def supporting_document_open(
    *, document: SupportingDocument, client: TelnyxClient | None = None
) -> DocumentStream:
    """Open a supporting document's bytes at Telnyx, within the web request's budget.

    Raises DocumentUnavailable when Telnyx cannot give it."""
    api = interactive_client(client)
    stack = ExitStack()
    try:
        meta = api.get_document(document.document_id)
        chunks = stack.enter_context(api.stream_document(document.document_id))
    except APIError as exc:
        stack.close()
        message = "The document could not be downloaded. " + failure_sentence(exc)
        raise DocumentUnavailable(message) from exc
    return DocumentStream(
        stack,
        chunks,
        filename=safe_filename(meta.filename or f"{document.type}-{document.document_id}"),
        content_type=served_content_type(meta.content_type),
    )
