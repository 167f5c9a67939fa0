"""The port-out app's models, one module per concern.

`cache` holds what Telnyx owns (the sync writes it, nothing else does); `records` holds
what the dashboard keeps of its own work; `evidence` the number inventory (Telnyx's, synced)
and the team's customer records; `metrics` the facts derived for the metrics. Callers
import every model from here.
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
from portouts.models.evidence import Customer, CustomerNumber, PhoneNumber
from portouts.models.metrics import PortOutFacts, WeeklySummarySettings
from portouts.models.records import Report, ReviewAction, SyncRun

__all__ = [
    "AlertChannel",
    "AlertPreference",
    "AlertRoute",
    "AlertRule",
    "Escalation",
    "Notification",
    "PortOutClaim",
    "Comment",
    "Customer",
    "CustomerNumber",
    "EventType",
    "PhoneNumber",
    "PortOut",
    "PortOutEvent",
    "PortOutFacts",
    "PortOutNumber",
    "PortOutQuerySet",
    "PortOutStatus",
    "RejectionCode",
    "Report",
    "ReviewAction",
    "SupportingDocument",
    "SyncRun",
    "WeeklySummarySettings",
]
