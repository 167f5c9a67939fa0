"""Documents (the Documents API) and the supporting documents that attach them to a port-out.

What Telnyx checks of an upload, how a file name and content type are settled, and what
a request to attach documents must look like; the state stores the results.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Container, Mapping
from typing import Any

from .entities import Document
from .errors import SandboxError

__all__ = ["DOCUMENT_TYPES", "check_attachments", "json_upload", "new_document"]

DOCUMENT_TYPES = ("loa", "invoice")
MAX_DOCUMENT_BYTES = 20 * 1024 * 1024

_EXTENSIONS = {
    "application/pdf": ".pdf",
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "text/csv": ".csv",
    "text/plain": ".txt",
}


def new_document(
    *,
    document_id: str,
    filename: str,
    content: bytes,
    content_type: str,
    customer_reference: str | None,
    created_ts: float,
) -> Document:
    """An uploaded document: size checked, blanks dropped from its name, an extension added
    from its content type when the name has none."""
    if not content:
        raise SandboxError("10004", "The uploaded file is empty.", pointer="/file")
    if len(content) > MAX_DOCUMENT_BYTES:
        raise SandboxError("10016", "Documents may be at most 20 MB.", pointer="/file")
    name = re.sub(r"\s+", "", filename or "")[:512] or "document"
    ext = _EXTENSIONS.get(content_type.split(";")[0].strip().lower())
    if ext and "." not in name:
        name += ext
    return Document(
        id=document_id,
        filename=name,
        content_type=content_type.split(";")[0].strip() or "application/octet-stream",
        created_ts=created_ts,
        customer_reference=customer_reference,
        _content=content,
    )


def json_upload(body: Mapping[str, Any]) -> tuple[str, bytes, str, str | None]:
    """(filename, content, content_type, customer_reference) of a JSON upload: base64
    `file` + `filename` (the `url` form needs the internet)."""
    if body.get("file") is None:
        if body.get("url"):
            raise SandboxError(
                "10016",
                "The sandbox cannot fetch documents by URL; send base64 'file' instead.",
                pointer="/url",
            )
        raise SandboxError("10004", "The 'file' field is required.", pointer="/file")
    raw = body["file"]
    if not isinstance(raw, str):
        raise SandboxError("10016", "'file' must be a base64 string.", pointer="/file")
    try:
        content = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        raise SandboxError("10016", "'file' is not valid base64.", pointer="/file") from None
    filename = body.get("filename") or "document"
    if not isinstance(filename, str):
        raise SandboxError("10016", "'filename' must be a string.", pointer="/filename")
    reference = body.get("customer_reference")
    return (
        filename,
        content,
        _sniff(content, filename),
        reference if isinstance(reference, str) else None,
    )


def _sniff(content: bytes, filename: str) -> str:
    if content.startswith(b"%PDF"):
        return "application/pdf"
    if content.startswith(b"\x89PNG"):
        return "image/png"
    if content.startswith(b"\xff\xd8"):
        return "image/jpeg"
    lower = filename.lower()
    for content_type, ext in _EXTENSIONS.items():
        if lower.endswith(ext):
            return content_type
    return "application/octet-stream"


def check_attachments(documents: Any, known: Container[str]) -> list[dict[str, Any]]:
    """The `documents` list of POST /portouts/{id}/supporting_documents, checked: 1 to 10
    objects, each with a known type and the id of a document in `known`."""
    if not isinstance(documents, list) or not documents:
        raise SandboxError(
            "10004", "'documents' must be a list of 1 to 10 items.", pointer="/documents"
        )
    if len(documents) > 10:
        raise SandboxError(
            "10016", "At most 10 documents can be attached at once.", pointer="/documents"
        )
    for i, item in enumerate(documents):
        if not isinstance(item, dict):
            raise SandboxError(
                "10016", "Each document must be an object.", pointer=f"/documents/{i}"
            )
        if item.get("type") not in DOCUMENT_TYPES:
            raise SandboxError(
                "10016",
                "'type' must be one of: loa, invoice.",
                pointer=f"/documents/{i}/type",
            )
        doc_id = item.get("document_id")
        if not isinstance(doc_id, str) or doc_id not in known:
            raise SandboxError(
                "10016",
                f"Document '{doc_id}' does not exist.",
                pointer=f"/documents/{i}/document_id",
            )
    return documents
