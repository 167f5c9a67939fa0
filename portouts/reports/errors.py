"""What a person reads when a report fails: the package's exceptions and every sentence
stored in `Report.error` or shown on the reports page.

The wording lives here only, so that it can be changed (or made one sentence per Telnyx
failure) without touching the workflows that use it.
"""

from __future__ import annotations

from celery.exceptions import SoftTimeLimitExceeded

from portouts.telnyx import APIError, failure_sentence


class InvalidFilters(ValueError):
    """The saved filters no longer validate (a bad or hand-edited query string)."""


class ReportNotRetryable(ValueError):
    """Only a failed report can be started again."""


class ReportFileUnavailable(LookupError):
    """The report has no file to download (unfinished, or its file is gone)."""


# Local exports ---------------------------------------------------------------------------

NOT_RETRYABLE = "Only a failed report can be retried."
NOT_QUEUED = "The export could not be queued (the task broker is unreachable); retry it."
NO_FILE = "This report has no file to download."
FILE_GONE = "The report's file is gone (it may have expired)."


def invalid_filters(detail: str) -> str:
    return f"The filters are not valid ({detail})."


def export_failed(exc: BaseException) -> str:
    """A sentence a person can act on; never a secret (the client redacts its key)."""
    if isinstance(exc, APIError):
        return failure_sentence(exc)
    if isinstance(exc, InvalidFilters):
        return str(exc)
    if isinstance(exc, SoftTimeLimitExceeded):
        return "The export took longer than the time limit and was stopped."
    text = str(exc) or exc.__class__.__name__
    return f"The export failed: {text}"


def export_stalled(minutes: int) -> str:
    return (
        f"The export stopped making progress for {minutes} minutes "
        "(its worker was probably stopped); retry it."
    )


def export_never_started(minutes: int) -> str:
    return f"No worker started the export within {minutes} minutes; retry it."


# Telnyx reports ---------------------------------------------------------------------------

TELNYX_NO_REPORT_ID = "Telnyx accepted the report but returned no id to follow it by."
TELNYX_REPORT_GONE = "Telnyx no longer has this report."
# Telnyx failures, each a sentence around the failure's own sentence ({exc}, from
# portouts.telnyx.failure_sentence, the same on every page), filled by telnyx_error_text.
TELNYX_CREATE_FAILED = "Telnyx did not create the report: {exc}"
#: Stored on a report that stays pending: the next poll asks again.
TELNYX_CHECK_FAILED = "Last check failed: {exc}"
TELNYX_CHECK_FAILED_IN_TIME = "Telnyx could not be asked about the report in time: {exc}"
TELNYX_DOWNLOAD_FAILED = "Downloading the report from Telnyx failed: {exc}"
TELNYX_LIST_UNAVAILABLE = "Telnyx's report list is unavailable: {exc}"


def telnyx_error_text(sentence: str, exc: APIError) -> str:
    """One of the TELNYX_* sentences with Telnyx's message (never the API key: the client
    redacts it)."""
    return sentence.format(exc=failure_sentence(exc))


def telnyx_too_slow(minutes: int) -> str:
    return f"Telnyx did not finish the report within {minutes} minutes."
