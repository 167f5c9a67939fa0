"""Supporting documents as files: the types Telnyx accepts and safe file names.

No service and no Telnyx call here, so forms, services and views can all import it. A file
is recognised by its first bytes, never by the name or the content type the browser sent.
"""

from __future__ import annotations

import re

#: What Telnyx accepts as a supporting document, recognised by the first bytes of the file.
DOCUMENT_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
)
DOCUMENT_CONTENT_TYPES = frozenset(content_type for _sig, content_type in DOCUMENT_SIGNATURES)
#: How many first bytes `sniff_document_type` needs.
SNIFF_BYTES = 16
#: Said wherever a file of another type is refused.
ACCEPTED_TYPES_TEXT = "PDF, JPEG, PNG or TIFF"


def sniff_document_type(head: bytes) -> str | None:
    """The content type of a file Telnyx accepts, from its first bytes; None for any other."""
    for signature, content_type in DOCUMENT_SIGNATURES:
        if head.startswith(signature):
            return content_type
    return None


def served_content_type(content_type: str | None) -> str:
    """The type a download is sent as: one Telnyx accepts as such, anything else as
    `application/octet-stream`, so the browser never renders it."""
    bare = (content_type or "").split(";", 1)[0].strip().lower()
    return bare if bare in DOCUMENT_CONTENT_TYPES else "application/octet-stream"


def safe_filename(name: str) -> str:
    """A file name without a path, fit for a header and for Telnyx (at most 200 characters)."""
    name = re.sub(r"[^\w.\- ]+", "_", name.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]).strip()
    return name[:200] or "document"
