"""Settling review actions left "started" by a request that died half-way (worker killed,
server timeout), so the audit trail never keeps an attempt without its outcome.

Run by beat (`reconcile_review_actions_task`).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from portouts import sync
from portouts.choices import status_label
from portouts.models import PortOut, ReviewAction
from portouts.review.audit import portout_name
from portouts.review.rules import Wanted, wanted_for_action
from portouts.telnyx import APIError, NotFoundError, TelnyxClient, get_client

logger = logging.getLogger(__name__)

#: A review action still "started" after this long belongs to a request that died half-way.
STALE_AFTER = timedelta(minutes=10)
UNFINISHED = "Outcome unknown: the request did not finish."


def _settle(action: ReviewAction, *, ok: bool, message: str, response: dict[str, Any]) -> bool:
    """Complete a started row unless its own request finished it meanwhile."""
    outcome = ReviewAction.Outcome.SUCCEEDED if ok else ReviewAction.Outcome.FAILED
    return bool(
        ReviewAction.objects.filter(pk=action.pk, outcome=ReviewAction.Outcome.STARTED).update(
            outcome=outcome,
            finished_at=timezone.now(),
            response=response,
            error="" if ok else message,
        )
    )


def _settle_decision(action: ReviewAction, wanted: Wanted, portout: PortOut | None) -> str:
    """Settle a decision by what Telnyx shows now: "succeeded" or "failed", or "" when its
    own request finished the row meanwhile."""
    ok = portout is not None and wanted.seen_in(portout)
    response: dict[str, Any] = {"reconciled": True}
    if portout is None:
        message = f"{UNFINISHED} Telnyx no longer finds this port-out."
    elif ok:
        message = (
            f"{action.get_kind_display()} of {portout_name(portout, portout.id)}: the request "
            "did not finish, but Telnyx shows the decision (confirmed on re-check)."
        )
        response = {"_message": message, "status": portout.status, "reconciled": True}
    else:
        message = (
            f"{UNFINISHED} Telnyx now reports it as “{status_label(portout.status)}”, not as "
            "this decision asked."
        )
    if not _settle(action, ok=ok, message=message, response=response):
        return ""
    return "succeeded" if ok else "failed"


def review_actions_reconcile(
    *,
    client: TelnyxClient | None = None,
    now: datetime | None = None,
    older_than: timedelta = STALE_AFTER,
) -> dict[str, int]:
    """Settle review actions left "started" by a request that died half-way.

    Authorize and reject are checked against a fresh read of the port-out: the one showing
    the decision succeeded (Telnyx applied it), the others failed with "outcome unknown".
    A port-out Telnyx cannot be asked about now is left for the next run. Comments, uploads
    and republishes cannot be recognised reliably, so they are marked failed with
    "outcome unknown", which tells the reviewer to check before sending them again.
    """
    cutoff = (now or timezone.now()) - older_than
    stale = ReviewAction.objects.filter(
        outcome=ReviewAction.Outcome.STARTED, created_at__lt=cutoff
    ).order_by("created_at")
    counts = {"succeeded": 0, "failed": 0, "unchecked": 0}
    api = client or get_client()
    fetched: dict[str, PortOut | None] = {}
    for action in list(stale):
        pid, wanted = action.portout_id, wanted_for_action(action)
        if wanted is None or not pid:
            message = f"{UNFINISHED} Check what Telnyx shows before sending it again."
            counts["failed"] += _settle(action, ok=False, message=message, response={})
            continue
        if pid not in fetched:
            try:
                fetched[pid] = sync.refresh_portout(pid, client=api, details=False)
            except NotFoundError:
                fetched[pid] = None
            except APIError as exc:
                logger.info("Review action %s left for the next run: %s", action.pk, exc)
                counts["unchecked"] += 1
                continue
        settled = _settle_decision(action, wanted, fetched[pid])
        if settled:
            counts[settled] += 1
    return counts
