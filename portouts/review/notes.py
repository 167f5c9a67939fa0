"""Internal notes: what the team writes for itself about a port-out.

A note is stored in the dashboard only. It never reaches Telnyx (unlike a comment, which
`portouts.review.comments` posts to Telnyx where the gaining carrier's side can read it),
so it needs no audit row before a call and no idempotency key: the row is the note.
"""

from __future__ import annotations

from typing import Any

from portouts.models import InternalNote, PortOut


def internal_note_create(*, user: Any, portout: PortOut, body: str) -> InternalNote:
    """Keep a note on the port-out for the team; `body` was checked by the form."""
    return InternalNote.objects.create(portout=portout, author=user, body=body)
