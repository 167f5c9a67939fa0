"""The dashboard's vocabulary, defined once: port-out statuses (label and badge tone), event
types, document types, review-action kinds, decision outcomes and the columns of the
port-out list.

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


class PinResult(models.TextChoices):
    """What the events say of the PIN the gaining carrier gave (rule: `evidence.pin`)."""

    MATCHED = "matched", "PIN given and accepted"
    WRONG = "wrong", "Wrong PIN: Telnyx rejected the request for its PIN"
    MISSING = "missing", "No PIN given"
    NOT_ELIGIBLE = "not_eligible", "Not eligible for PIN protection"
    UNKNOWN = "unknown", "No status event yet"


PIN_TONES = {
    PinResult.MATCHED: "ok",
    PinResult.WRONG: "danger",
    PinResult.MISSING: "warn",
    PinResult.NOT_ELIGIBLE: "muted",
    PinResult.UNKNOWN: "muted",
}


class NumberSource(models.TextChoices):
    """How a number came to the account (`source` of `GET /phone_numbers`)."""

    PURCHASED = "purchased", "Bought"
    PORTED = "ported", "Ported in"


class DecisionOutcome(models.TextChoices):
    """How a port-out's review ended, for the metrics (`metrics.facts` states the rules)."""

    AUTHORIZED = "authorized", "Authorized"
    REJECTED = "rejected", "Rejected"
    CANCELED = "canceled", "Canceled by the carrier"
    TIMEOUT = "timeout", "Authorized by timeout"


class DecidedVia(models.TextChoices):
    """Who or what decided a port-out: a reviewer here, someone in Telnyx, Telnyx's clock."""

    DASHBOARD = "dashboard", "In the dashboard"
    TELNYX = "telnyx", "Outside the dashboard"
    TIMEOUT = "timeout", "Telnyx, at the deadline"
    CARRIER = "carrier", "The gaining carrier"


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


# Alerts ----------------------------------------------------------------------------------


class AlertKind(models.TextChoices):
    """What a rule watches for (portouts.alerts evaluates each)."""

    NEW_PENDING = "new_pending", "New pending port-out"
    DUE_SOON = "due_soon", "Due soon"
    OVERDUE = "overdue", "Past the window and still pending"
    FOC_CHANGED = "foc_changed", "FOC date changed"
    BACK_TO_PENDING = "back_to_pending", "A rejection came back to pending"
    NEW_COMMENT = "new_comment", "New comment from the gaining carrier or Telnyx"
    NEW_DOCUMENT = "new_document", "Document attached by the carrier"
    SYNC_BLIND = "sync_blind", "Sync failing or cache out of date"


class ChannelKind(models.TextChoices):
    """Where a channel delivers: e-mail through Django's backend, the rest through Apprise."""

    EMAIL = "email", "E-mail"
    SLACK = "slack", "Slack incoming webhook"
    TEAMS = "teams", "Microsoft Teams (Workflows webhook)"
    JSON = "json", "JSON webhook"


class RouteRole(models.TextChoices):
    """Which recipients of a rule a route holds."""

    PRIMARY = "primary", "Recipients"
    AFTER_HOURS = "after_hours", "After hours (on-call)"
    TIER = "tier", "Escalation tier"


class NotificationState(models.TextChoices):
    """A notification's delivery: pending (to send, maybe after a backoff), sending (claimed
    by a worker under a lease), sent, failed (retries exhausted), uncertain (the worker
    stopped during the send itself: not resent, so never twice)."""

    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    UNCERTAIN = "uncertain", "Worker stopped mid-send"


class DeliveryMethod(models.TextChoices):
    """How a notification for a person reaches them (their preference)."""

    EMAIL = "email", "E-mail and the dashboard"
    DASHBOARD = "dashboard", "The dashboard only"
