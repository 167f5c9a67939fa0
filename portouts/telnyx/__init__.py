"""Typed client for the Telnyx port-out, events, reports, documents and phone-number APIs.

No Django here except inside `get_client()`, which reads settings at call time.
"""

from __future__ import annotations

from .client import TelnyxClient, get_client, reset_client
from .document_calls import MAX_DOCUMENT_BYTES
from .errors import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    DocumentTooLargeError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    UnprocessableEntityError,
    WebhookPayloadError,
    WebhookVerificationError,
    failure_sentence,
)
from .event_calls import EventFilters
from .number_calls import PhoneNumberFilters
from .paging import Page, PageMeta, walk_pages
from .portout_calls import PortoutFilters
from .report_calls import ReportFilters
from .retry import RetryPolicy
from .transport import DEFAULT_BASE_URL
from .types import (
    EVENT_FOC_DATE_CHANGED,
    EVENT_NEW_COMMENT,
    EVENT_STATUS_CHANGED,
    KNOWN_EVENT_TYPES,
    PORTOUT_STATUSES,
    CommentData,
    DocumentData,
    EventData,
    PhoneNumberData,
    PortoutData,
    RejectionCodeData,
    ReportData,
    SupportingDocumentData,
    WebhookEvent,
)
from .webhooks import SIGNATURE_HEADER, TIMESTAMP_HEADER, parse_webhook, verify_webhook

__all__ = [
    "DEFAULT_BASE_URL",
    "EVENT_FOC_DATE_CHANGED",
    "EVENT_NEW_COMMENT",
    "EVENT_STATUS_CHANGED",
    "KNOWN_EVENT_TYPES",
    "MAX_DOCUMENT_BYTES",
    "PORTOUT_STATUSES",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "DocumentData",
    "DocumentTooLargeError",
    "EventFilters",
    "InternalServerError",
    "NotFoundError",
    "Page",
    "walk_pages",
    "PageMeta",
    "PhoneNumberData",
    "PhoneNumberFilters",
    "PermissionDeniedError",
    "PortoutData",
    "CommentData",
    "EventData",
    "PortoutFilters",
    "ReportData",
    "RateLimitError",
    "RejectionCodeData",
    "ReportFilters",
    "RetryPolicy",
    "SupportingDocumentData",
    "TelnyxClient",
    "UnprocessableEntityError",
    "WebhookEvent",
    "WebhookPayloadError",
    "WebhookVerificationError",
    "failure_sentence",
    "get_client",
    "parse_webhook",
    "reset_client",
    "verify_webhook",
]
