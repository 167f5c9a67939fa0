"""The dashboard's vocabulary, defined once: port-out statuses (label and badge tone), event
types, document types, review-action kinds, the states of a decision waiting for a second
reviewer and the columns of the port-out list.

Models, forms, filters, selectors, templates and the admin read these. The Telnyx client
keeps its own wire literals (it knows no Django) and so does the sandbox (an independent
implementation on purpose).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models


class PortOutStatus(models.TextChoices):
    """Statuses as Telnyx spells them. Unknown values from the API are stored as they come."""

    PENDING = "pending", "Pending"
    AUTHORIZED = "authorized", "Authorized"
    REJECTED_PENDING = "rejected-pending", "Rejection pending"
    REJECTED = "rejected", "Rejected"
    CANCELED = "canceled", "Canceled"
    PORTED = "ported", "Ported"


#: Badge tone of each status (a CSS class `tone-<tone>`): one strong colour for what needs
#: a person, calm ones for the rest.
STATUS_TONES: dict[str, str] = {
    PortOutStatus.PENDING: "warn",
    PortOutStatus.AUTHORIZED: "ok",
    PortOutStatus.PORTED: "ok",
    PortOutStatus.REJECTED_PENDING: "danger",
    PortOutStatus.REJECTED: "danger",
    PortOutStatus.CANCELED: "muted",
}


def status_label(status: str) -> str:
    """The readable label of a status; unknown statuses from Telnyx show as sent."""
    try:
        return str(PortOutStatus(status).label)
    except ValueError:
        return status or "unknown"


def status_tone(status: str) -> str:
    return STATUS_TONES.get(status, "muted")


class EventType(models.TextChoices):
    """Telnyx's port-out event types (others are stored and shown as they come)."""

    STATUS_CHANGED = "portout.status_changed", "Status changed"
    NEW_COMMENT = "portout.new_comment", "New comment"
    FOC_DATE_CHANGED = "portout.foc_date_changed", "FOC date changed"


def event_label(event_type: str) -> str:
    try:
        return str(EventType(event_type).label)
    except ValueError:
        return event_type


class DocumentType(models.TextChoices):
    """Supporting documents Telnyx accepts on a port-out."""

    LOA = "loa", "Letter of authorization"
    INVOICE = "invoice", "Invoice"


class ReviewActionKind(models.TextChoices):
    """What a person did through the dashboard (the audit trail)."""

    AUTHORIZE = "authorize", "Authorize"
    REJECT = "reject", "Reject"
    COMMENT = "comment", "Comment"
    UPLOAD = "upload", "Upload document"
    REPUBLISH = "republish", "Republish event"
    PREPARE = "prepare", "Prepare rejection"
    WITHDRAW = "withdraw", "Withdraw rejection"


class PendingDecisionState(models.TextChoices):
    """Where a rejection prepared under the two-person rule stands."""

    WAITING = "waiting", "Waiting for a second reviewer"
    SENT = "sent", "Approved and sent"
    VOID = "void", "Void: the port-out changed in Telnyx"
    WITHDRAWN = "withdrawn", "Withdrawn"


@dataclass(frozen=True)
class ListColumn:
    """A column of the port-out list: its key, the `o` value that sorts by it, its header,
    the model field it sorts on, and whether narrow screens hide it."""

    key: str
    order: str
    label: str
    sort_field: str
    narrow_hidden: bool = False


LIST_COLUMNS: tuple[ListColumn, ...] = (
    ListColumn("status", "status", "Status", "status"),
    ListColumn("numbers", "number", "Numbers", "first_number"),
    ListColumn("end_user", "end_user", "End user", "end_user_name"),
    ListColumn("carrier", "carrier", "Gaining carrier", "carrier_name"),
    ListColumn("pon", "pon", "PON", "pon", narrow_hidden=True),
    ListColumn("foc", "foc", "FOC", "foc_date"),
    ListColumn("requested_foc", "requested_foc", "Requested FOC", "requested_foc_date", True),
    ListColumn("created", "created", "Created", "created_at"),
    ListColumn("support_key", "support_key", "Support key", "support_key"),
)

#: Sort orders the list accepts besides its columns' (`o` values and the fields they sort on).
EXTRA_ORDERS: tuple[tuple[str, str], ...] = (("number_count", "count"), ("spid", "spid"))

#: Model fields the list and the queue read; `raw` and the full number list stay unread.
LIST_FIELDS: tuple[str, ...] = (
    "id",
    "status",
    "first_number",
    "number_count",
    "end_user_name",
    "carrier_name",
    "spid",
    "pon",
    "foc_date",
    "requested_foc_date",
    "created_at",
    "support_key",
    "country_code",
)
