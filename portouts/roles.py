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

# One constant per permission a view checks ("app_label.codename"); views never spell them.

# Checked by every view that sends a decision, comment, document or republish to Telnyx.
REVIEW_PERMISSION = "portouts.review_portout"

# Requesting a CSV export or a Telnyx report.
REQUEST_REPORT_PERMISSION = "portouts.request_report"

# "Sync now" on the Sync page.
SYNC_PERMISSION = "portouts.sync_now"

# Every page of the port-out app needs this (Viewer and Reviewer have it).
VIEW_PERMISSION = "portouts.view_portout"
