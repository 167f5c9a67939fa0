"""The dashboard's vocabulary, defined once: port-out statuses (label and badge tone), event
types, document types, review-action kinds, decision outcomes, the states of a decision
waiting for a second reviewer, risk flags and their severities, watch-list kinds,
confirmation answers, outcome labels and the columns of the port-out list.

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


class CommentAuthor(models.TextChoices):
    """Who wrote a comment in Telnyx, told apart by its `user_id` (see `Comment.author`)."""

    TELNYX_STAFF = "telnyx", "Telnyx staff"
    OUR_TEAM = "team", "Our team in Telnyx"
    GAINING_CARRIER = "carrier", "Gaining carrier"


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
    LABEL = "label", "Label outcome"


class PendingDecisionState(models.TextChoices):
    """Where a rejection prepared under the two-person rule stands."""

    WAITING = "waiting", "Waiting for a second reviewer"
    SENT = "sent", "Approved and sent"
    VOID = "void", "Void: the port-out changed in Telnyx"
    WITHDRAWN = "withdrawn", "Withdrawn"


class TimeLeft(models.TextChoices):
    """Where a pending port-out stands in its response window: the queue's sections, in
    the queue's order, and the list's "time left" filter."""

    DUE_SOON = "due_soon", "Due soon"
    IN_WINDOW = "in_window", "In window"
    PAST_WINDOW = "past_window", "Past the window"


class RiskSeverity(models.TextChoices):
    """How much a risk flag weighs; `positive` flags speak for the request."""

    POSITIVE = "positive", "Speaks for it"
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"
    CRITICAL = "critical", "Critical"


#: Points each severity adds to a port-out's risk score (the score is their sum, kept
#: within 0-100; positive flags take points off). The one formula: `portouts.risk.engine`.
SEVERITY_POINTS: dict[str, int] = {
    RiskSeverity.POSITIVE: -20,
    RiskSeverity.LOW: 10,
    RiskSeverity.MEDIUM: 20,
    RiskSeverity.HIGH: 35,
    RiskSeverity.CRITICAL: 60,
}

#: Most severe first, for ordering flags on a page.
SEVERITY_RANK: dict[str, int] = {
    RiskSeverity.CRITICAL: 0,
    RiskSeverity.HIGH: 1,
    RiskSeverity.MEDIUM: 2,
    RiskSeverity.LOW: 3,
    RiskSeverity.POSITIVE: 4,
}


class RiskFlagKind(models.TextChoices):
    """The risk flags a port-out can carry (one `portouts.risk.flags` function each)."""

    PIN = "pin", "Wrong or missing PIN"
    NEW_CARRIER = "new_carrier", "New gaining carrier"
    MANY_NUMBERS = "many_numbers", "Many numbers"
    REPEATED = "repeated", "Repeated attempt"
    OFF_HOURS = "off_hours", "Outside business hours"
    WATCHLIST = "watchlist", "On the watch list"
    EXPECTED = "expected", "Expected"
    CONFIRMED_NO = "confirmed_no", "End user answered No"
    CONFIRMED_YES = "confirmed_yes", "End user answered Yes"
    NO_ANSWER = "no_answer", "No answer from the end user"
    CUSTOMER_MISMATCH = "customer_mismatch", "Differs from our customer record"
    NO_CUSTOMER = "no_customer", "Numbers without a customer record"
    FROZEN = "frozen", "Customer under a port-out freeze"
    ALL_NUMBERS = "all_numbers", "All of the customer's numbers leaving"
    RECENT_NUMBERS = "recent_numbers", "Numbers new to the account"


#: The severity of each flag kind, defined once.
FLAG_SEVERITY: dict[str, str] = {
    RiskFlagKind.PIN: RiskSeverity.HIGH,
    RiskFlagKind.NEW_CARRIER: RiskSeverity.MEDIUM,
    RiskFlagKind.MANY_NUMBERS: RiskSeverity.MEDIUM,
    RiskFlagKind.REPEATED: RiskSeverity.HIGH,
    RiskFlagKind.OFF_HOURS: RiskSeverity.LOW,
    RiskFlagKind.WATCHLIST: RiskSeverity.HIGH,
    RiskFlagKind.EXPECTED: RiskSeverity.POSITIVE,
    RiskFlagKind.CONFIRMED_NO: RiskSeverity.CRITICAL,
    RiskFlagKind.CONFIRMED_YES: RiskSeverity.POSITIVE,
    RiskFlagKind.NO_ANSWER: RiskSeverity.MEDIUM,
    RiskFlagKind.CUSTOMER_MISMATCH: RiskSeverity.HIGH,
    RiskFlagKind.NO_CUSTOMER: RiskSeverity.LOW,
    RiskFlagKind.FROZEN: RiskSeverity.HIGH,
    RiskFlagKind.ALL_NUMBERS: RiskSeverity.MEDIUM,
    RiskFlagKind.RECENT_NUMBERS: RiskSeverity.MEDIUM,
}


class WatchKind(models.TextChoices):
    """What a watch-list entry names."""

    SPID = "spid", "SPID"
    CARRIER = "carrier", "Gaining carrier"
    NAME = "name", "Name"
    ADDRESS = "address", "Address"


class ConfirmationAnswer(models.TextChoices):
    """The end user's answer to "Did you request this transfer?"."""

    YES = "yes", "Yes"
    NO = "no", "No"


#: hours a Reviewer may give the end user to answer (capped by the port-out's deadline)
CONFIRMATION_ANSWER_WITHIN_HOURS = (1, 2, 4, 8, 12)


class OutcomeLabel(models.TextChoices):
    """How an ended port-out turned out, as a Reviewer labels it."""

    LEGITIMATE = "legitimate", "Legitimate"
    FRAUD = "fraud", "Fraud attempt"
    CUSTOMER_ERROR = "customer_error", "Customer error"
    UNKNOWN = "unknown", "Unknown"


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
    the model field it sorts on (empty `order`: not sortable), and whether narrow screens
    hide it."""

    key: str
    order: str
    label: str
    sort_field: str
    narrow_hidden: bool = False


LIST_COLUMNS: tuple[ListColumn, ...] = (
    ListColumn("status", "status", "Status", "status"),
    # Time left runs with the creation date; sorting by it is sorting by "Created".
    ListColumn("time_left", "", "Time left", ""),
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
    END_USER_NO = "end_user_no", "End user answered No to the confirmation"


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
