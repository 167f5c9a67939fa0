"""The port-out app's models, one module per concern.

`cache` holds what Telnyx owns (the sync writes it, nothing else does); `records` holds
what the dashboard keeps of its own work; `desk` the team's internal notes and rejections
waiting for a second reviewer. Callers import every model from here.
"""

from portouts.choices import EventType, PortOutStatus
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
from portouts.models.records import Report, ReviewAction, SyncRun

__all__ = [
    "Comment",
    "EventType",
    "InternalNote",
    "PendingDecision",
    "PortOut",
    "PortOutEvent",
    "PortOutNumber",
    "PortOutQuerySet",
    "PortOutStatus",
    "RejectionCode",
    "Report",
    "ReviewAction",
    "SupportingDocument",
    "SyncRun",
]
