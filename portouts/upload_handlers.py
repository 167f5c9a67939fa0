"""Upload handler that stops reading a document past Telnyx's size limit.

Django's own handlers spool the whole file (to memory or a temporary file) before the
form can look at its size. This one sits first in `request.upload_handlers` of the upload
view and skips the file as soon as it passes `MAX_DOCUMENT_BYTES`, so a 2 GB file is never
stored; the form then says the file is too large.
"""

from __future__ import annotations

from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.http import HttpRequest

from portouts.telnyx import MAX_DOCUMENT_BYTES


class DocumentSizeLimitHandler(FileUploadHandler):
    """Pass chunks on to the next handlers until a file exceeds the limit, then skip it."""

    def __init__(self, request: HttpRequest | None = None, *, limit: int = MAX_DOCUMENT_BYTES):
        super().__init__(request)
        self.limit = limit
        #: names of the form fields whose file was skipped for its size
        self.too_large: set[str] = set()

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        if start + len(raw_data) > self.limit:
            self.too_large.add(self.field_name)
            raise SkipFile(f"{self.file_name!r} is larger than {self.limit} bytes")
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None  # the next handler builds the uploaded file
