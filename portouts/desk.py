"""What a port-out's page reads of the team's own desk (internal notes, rejections waiting
for a second reviewer), as plain data for `portouts.timeline` and `portouts.selectors`.

Kept apart from the selectors of Telnyx-owned data so that the timeline and the page's
version token each gain one call, not a copy of these queries.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Max, Subquery

from portouts.models import InternalNote, PendingDecision
from portouts.versions import per_portout


def internal_note_entries(*, portout_id: str) -> list[dict[str, Any]]:
    """The port-out's internal notes as timeline entries (kind "note", marked internal), in
    one query."""
    notes = InternalNote.objects.filter(portout_id=portout_id).select_related("author")
    return [
        {
            "kind": "note",
            "at": n.created_at,
            "portout_id": n.portout_id,
            "title": "Internal note",
            "body": n.body,
            "actor": n.author.get_username(),
            "internal": True,
        }
        for n in notes
    ]


def desk_version_parts() -> dict[str, Subquery]:
    """What changes the page's version token: a new note, a prepared rejection moving on
    (columns of the token's one query, `portouts.versions.per_portout`)."""
    return {
        "v_note": per_portout(InternalNote, Max("id")),
        "v_pending": per_portout(PendingDecision, Max("updated_at")),
    }
