"""Handlers of the Documents API and of the unauthenticated files (LSR PDFs, temporary
document links)."""

from __future__ import annotations

import email.parser
import email.policy
import re
from typing import Any

from .entities import Document
from .errors import SandboxError
from .seed import lsr_pdf
from .state import SandboxState
from .wire import Request, Response, data_response

__all__ = [
    "create_document",
    "document_download_link",
    "download_document",
    "get_document",
    "serve_file",
]


def create_document(state: SandboxState, req: Request) -> Response:
    if req.content_type.startswith("multipart/form-data"):
        doc = _multipart_document(state, req)
    else:
        doc = state.create_document_from_json(req.json())
    return data_response(doc.to_dict())


def _multipart_document(state: SandboxState, req: Request) -> Document:
    header = f"Content-Type: {req.headers.get('Content-Type')}\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(header + req.body)
    file_part = None
    reference: str | None = None
    if message.is_multipart():
        for part in message.iter_parts():  # type: ignore[attr-defined]
            name = part.get_param("name", header="content-disposition")
            if name == "file":
                file_part = part
            elif name == "customer_reference":
                reference = _part_bytes(part).decode()
    if file_part is None:
        raise SandboxError("10004", "The multipart field 'file' is required.", pointer="/file")
    return state.create_document(
        filename=file_part.get_filename() or "document",
        content=_part_bytes(file_part),
        content_type=file_part.get_content_type(),
        customer_reference=reference,
    )


def _part_bytes(part: Any) -> bytes:
    payload = part.get_payload(decode=True)
    return payload if isinstance(payload, bytes) else b""


def get_document(state: SandboxState, req: Request) -> Response:
    return data_response(state.get_document(req.params["id"]).to_dict())


def download_document(state: SandboxState, req: Request) -> Response:
    doc = state.get_document(req.params["id"])
    return Response(
        200,
        doc.content,
        doc.content_type,
        {"Content-Disposition": f'attachment; filename="{doc.filename}"'},
    )


def document_download_link(state: SandboxState, req: Request) -> Response:
    doc = state.get_document(req.params["id"])
    return data_response({"url": f"{state.public_root}/files/documents/{doc.id}"})


def serve_file(state: SandboxState, path: str) -> Response:
    """Unauthenticated downloads: LSR PDFs and temporary document links."""
    match = re.fullmatch(r"/files/lsr/(?P<id>[^/]+)\.pdf", path)
    if match:
        return Response(200, lsr_pdf(state.get_portout(match["id"])), "application/pdf")
    match = re.fullmatch(r"/files/documents/(?P<id>[^/]+)", path)
    if match:
        doc = state.get_document(match["id"])
        return Response(200, doc.content, doc.content_type)
    raise SandboxError("10005", "File not found.")
