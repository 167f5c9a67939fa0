"""The port-out app's models, one module per concern.

`cache` holds what Telnyx owns (the sync writes it, nothing else does); `records` holds
what the dashboard keeps of its own work; `desk` the team's internal notes and rejections
waiting for a second reviewer; `evidence` the number inventory (Telnyx's, synced) and the
team's customer records; `metrics` the facts derived for the metrics; `risk` the flags,
watch list, expected port-outs, end-user confirmations and outcome labels. Callers import
every model from here.
"""

from portouts.choices import EventType, PortOutStatus
from portouts.models.alerts import (
    AlertChannel,
    AlertPreference,
    AlertRoute,
    AlertRule,
    Escalation,
    Notification,
    PortOutClaim,
)
from portouts.models.cache import (
    Comment,
    PortOut,
    PortOutEvent,
    PortOutNumber,
    PortOutQuerySet,
    RejectionCode,
    SupportingDocument,
)
from portouts.models.desk import InternalNote, PendingDecision
from portouts.models.evidence import Customer, CustomerNumber, PhoneNumber
from portouts.models.metrics import PortOutFacts, WeeklySummarySettings
from portouts.models.records import Report, ReviewAction, SyncRun
from portouts.models.risk import (
    ConfirmationRequest,
    ExpectedPortOut,
    PortOutOutcome,
    RiskAssessment,
    RiskFlag,
    WatchEntry,
)

__all__ = [
    "AlertChannel",
    "AlertPreference",
    "AlertRoute",
    "AlertRule",
    "Escalation",
    "Notification",
    "PortOutClaim",
    "Comment",
    "ConfirmationRequest",
    "Customer",
    "CustomerNumber",
    "EventType",
    "ExpectedPortOut",
    "InternalNote",
    "PendingDecision",
    "PhoneNumber",
    "PortOut",
    "PortOutEvent",
    "PortOutFacts",
    "PortOutNumber",
    "PortOutOutcome",
    "PortOutQuerySet",
    "PortOutStatus",
    "RejectionCode",
    "Report",
    "ReviewAction",
    "RiskAssessment",
    "RiskFlag",
    "SupportingDocument",
    "SyncRun",
    "WatchEntry",
    "WeeklySummarySettings",
]
