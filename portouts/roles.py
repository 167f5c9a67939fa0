"""The dashboard's roles, as Django groups with permissions.

Viewer reads everything; Reviewer may also decide, comment, attach documents,
republish events, request reports and start a sync. Staff users reach the admin site.
"""

from __future__ import annotations

VIEWER = "Viewer"
REVIEWER = "Reviewer"

VIEW_PERMISSIONS = [
    "view_portout",
    "view_portoutnumber",
    "view_comment",
    "view_supportingdocument",
    "view_rejectioncode",
    "view_portoutevent",
    "view_reviewaction",
    "view_report",
    "view_syncrun",
]
REVIEW_PERMISSIONS = ["review_portout", "request_report", "sync_now"]

ROLE_PERMISSIONS = {
    VIEWER: VIEW_PERMISSIONS,
    REVIEWER: VIEW_PERMISSIONS + REVIEW_PERMISSIONS,
}

# Checked by every view that sends a decision, comment, document or republish to Telnyx.
REVIEW_PERMISSION = "portouts.review_portout"

# Every page of the port-out app needs this (Viewer and Reviewer have it).
VIEW_PERMISSION = "portouts.view_portout"
