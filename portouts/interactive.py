"""The budget of Telnyx calls made while a person waits on a page.

A web request has to answer before the web server gives up on it (gunicorn: 30 s). So
every Telnyx call made from a web request (decisions, comments, uploads, document
downloads, loading rejection codes) goes through `interactive_client`: at most two attempts
of INTERACTIVE_TIMEOUT s per call, at most INTERACTIVE_RETRY_AFTER_CAP s in between, and a
single attempt for the re-check after a failed decision, so a decision (re-read, change,
re-check) stays near 22 s. Background work (sync, beat tasks) keeps the client's full
retries.
"""

from __future__ import annotations

from portouts.telnyx import TelnyxClient, get_client

INTERACTIVE_TIMEOUT = 4.0
INTERACTIVE_MAX_RETRIES = 1
INTERACTIVE_RETRY_AFTER_CAP = 1.0


def interactive_client(client: TelnyxClient | None = None) -> TelnyxClient:
    """The shared client (or the one given) with the interactive budget, same connection pool.

    A client already tighter than the budget keeps its own limits."""
    base = client or get_client()
    return base.with_options(
        timeout=min(base.timeout, INTERACTIVE_TIMEOUT),
        max_retries=min(base.max_retries, INTERACTIVE_MAX_RETRIES),
        retry_after_cap=min(base.retry_policy.retry_after_cap, INTERACTIVE_RETRY_AFTER_CAP),
    )


def recheck_client(client: TelnyxClient) -> TelnyxClient:
    """One attempt, no retries: the re-read after a failed change, within the same budget."""
    return client.with_options(max_retries=0)
