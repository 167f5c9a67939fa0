"""Derived facts per port-out: when it became pending, who decided it and when, and whether
Telnyx authorized it by itself because nobody answered in time.

**The rules**, applied to what the cache holds (the port-out, its `portout.status_changed`
and `portout.foc_date_changed` events, our audit trail and Telnyx's comments):

- *Pending since*: the port-out's `created_at`, or the last bounce-back (a status event
  to `pending` after `rejected-pending`/`rejected`: Porting Ops sent a rejection back),
  which opens a new window. The window ends REVIEW_WINDOW_HOURS later.
- *A decision of ours*: an authorize or reject of the audit trail that succeeded, made
  since the port-out became pending (a rejection before a bounce-back no longer stands).
- *A decision in Telnyx's comments*: a comment saying the request was authorized or
  approved ("Authorized per the customer's e-mail"), not negated ("not authorized").
- **Authorized by timeout**: the port-out is authorized (or ported), there is no decision
  of ours and none in the comments, and the authorization happened at or after the
  window's end (the status event's time; without one, the port-out's `updated_at`).
  Authorized before the window's end without a decision of ours means someone decided in
  Telnyx's portal: *outside the dashboard*.
- Rejected: by us when our rejection stands, else outside the dashboard. Canceled: by the
  gaining carrier. Pending or an unknown status: undecided.
- *Time to decision*: from pending to a person's decision (ours, or in Telnyx); none for
  timeouts and cancellations.
- *Alert to claim*: from the first alert sent about the port-out to the first time a
  reviewer took it (`facts_claimed`, called by the claim), when the claim came after it.
- *Copies*: the gaining carrier (name and SPID) of the port-out and its outcome label,
  so the page's carriers and flags tables read the facts alone. The refresh copies both;
  `facts_labelled`, called by the labelling in its transaction, keeps the label current.

The sync keeps the rows current (`facts_refresh`, `facts_refresh_behind`) with a constant
number of queries per batch; pages never derive them.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, Min, OuterRef, Q
from django.utils import timezone

from portouts.choices import (
    DecidedVia,
    DecisionOutcome,
    EventType,
    PortOutStatus,
    ReviewActionKind,
)
from portouts.models import (
    Comment,
    Notification,
    PortOut,
    PortOutEvent,
    PortOutFacts,
    ReviewAction,
)

#: port-outs whose facts are computed per transaction
BATCH_SIZE = 500

_AUTHORIZED: set[str] = {PortOutStatus.AUTHORIZED, PortOutStatus.PORTED}
_REJECTED: set[str] = {PortOutStatus.REJECTED_PENDING, PortOutStatus.REJECTED}
_DECISION_WORDS = re.compile(r"(?<!not )(?<!un)\b(authori[sz]ed|approved)\b", re.IGNORECASE)
_FIELDS = [f.name for f in PortOutFacts._meta.concrete_fields if f.name != "portout"]


@dataclass(frozen=True)
class StatusChange:
    at: datetime
    status: str
    reason: str = ""


@dataclass(frozen=True)
class Decision:
    """A succeeded authorize or reject of our audit trail."""

    at: datetime
    kind: str
    user_id: int
    code: str = ""


@dataclass
class Evidence:
    """What the rules read of one port-out."""

    changes: list[StatusChange] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)
    comments: list[tuple[datetime | None, str]] = field(default_factory=list)
    foc_changes: int = 0
    first_alert_at: datetime | None = None
    first_claimed_at: datetime | None = None
    outcome_label: str = ""


def comment_is_decision(body: str) -> bool:
    """A comment in Telnyx that records an authorization ("Authorized as requested")."""
    return bool(_DECISION_WORDS.search(body or ""))


def derive_facts(portout: PortOut, evidence: Evidence, *, now: datetime) -> PortOutFacts:
    """The facts of one port-out by the rules of this module's docstring."""
    changes = sorted(evidence.changes, key=lambda c: c.at)
    bounces = [
        c.at
        for prev, c in zip(changes, changes[1:], strict=False)
        if c.status == PortOutStatus.PENDING and prev.status in _REJECTED
    ]
    pending_at = bounces[-1] if bounces else portout.created_at
    window = timedelta(hours=settings.REVIEW_WINDOW_HOURS)
    facts = PortOutFacts(
        portout_id=portout.id,
        pending_at=pending_at,
        window_ends_at=pending_at + window if pending_at else None,
        bounce_count=len(bounces),
        bounced_back_at=bounces[-1] if bounces else None,
        foc_changes=evidence.foc_changes,
        first_alert_at=evidence.first_alert_at,
        first_claimed_at=evidence.first_claimed_at,
        carrier_name=portout.carrier_name,
        spid=portout.spid,
        outcome_label=evidence.outcome_label,
        computed_at=now,
    )
    alert, claim = evidence.first_alert_at, evidence.first_claimed_at
    if alert is not None and claim is not None and claim >= alert:
        facts.alert_to_claim_seconds = _seconds(alert, claim)
    standing = [d for d in evidence.decisions if pending_at is None or d.at >= pending_at]
    status = portout.status
    if status in _AUTHORIZED:
        _authorized(facts, portout, evidence, standing, _last_change(changes, _AUTHORIZED))
    elif status in _REJECTED:
        _rejected(facts, portout, standing, _last_change(changes, _REJECTED))
    elif status == PortOutStatus.CANCELED:
        change = _last_change(changes, {str(PortOutStatus.CANCELED)})
        facts.outcome, facts.decided_via = DecisionOutcome.CANCELED, DecidedVia.CARRIER
        facts.decided_at = change.at if change else portout.updated_at
    if facts.decided_via in (DecidedVia.DASHBOARD, DecidedVia.TELNYX):
        facts.decision_seconds = _seconds(pending_at, facts.decided_at)
    return facts


def _authorized(
    facts: PortOutFacts,
    portout: PortOut,
    evidence: Evidence,
    standing: Sequence[Decision],
    change: StatusChange | None,
) -> None:
    facts.outcome = DecisionOutcome.AUTHORIZED
    authorized_at = change.at if change else portout.updated_at
    ours = [d for d in standing if d.kind == ReviewActionKind.AUTHORIZE]
    if ours:
        facts.decided_via, facts.decided_at = DecidedVia.DASHBOARD, ours[-1].at
        facts.decided_by_id = ours[-1].user_id
        return
    in_comments = any(comment_is_decision(body) for _, body in evidence.comments)
    facts.decided_at = authorized_at
    on_time = (
        authorized_at is None
        or facts.window_ends_at is None
        or authorized_at < facts.window_ends_at
    )
    if in_comments or on_time:
        facts.decided_via = DecidedVia.TELNYX
    else:
        facts.outcome, facts.decided_via = DecisionOutcome.TIMEOUT, DecidedVia.TIMEOUT


def _rejected(
    facts: PortOutFacts,
    portout: PortOut,
    standing: Sequence[Decision],
    change: StatusChange | None,
) -> None:
    facts.outcome = DecisionOutcome.REJECTED
    ours = [d for d in standing if d.kind == ReviewActionKind.REJECT]
    if ours:
        facts.decided_via, facts.decided_at = DecidedVia.DASHBOARD, ours[-1].at
        facts.decided_by_id, facts.rejection = ours[-1].user_id, ours[-1].code
        return
    facts.decided_via = DecidedVia.TELNYX
    facts.decided_at = change.at if change else portout.updated_at
    facts.rejection = (change.reason if change else "")[:255]


def _last_change(changes: Sequence[StatusChange], statuses: set[str]) -> StatusChange | None:
    return next((c for c in reversed(changes) if c.status in statuses), None)


def _seconds(start: datetime | None, end: datetime | None) -> int | None:
    if start is None or end is None:
        return None
    return max(0, int((end - start).total_seconds()))


# -- keeping the rows current ----------------------------------------------------------


def facts_refresh(portout_ids: Iterable[str]) -> int:
    """Derive and store the facts of these port-outs; return how many were stored.

    Six reads and one write per batch of BATCH_SIZE, whatever the events per port-out.
    """
    ids = list(dict.fromkeys(portout_ids))
    stored = 0
    for start in range(0, len(ids), BATCH_SIZE):
        batch = ids[start : start + BATCH_SIZE]
        with transaction.atomic():
            stored += _refresh_batch(batch)
    return stored


def facts_claimed(portout_id: str, at: datetime) -> None:
    """A reviewer took the port-out: its first claim is kept (later ones change nothing)."""
    updated = PortOutFacts.objects.filter(
        portout_id=portout_id, first_claimed_at__isnull=True
    ).update(first_claimed_at=at)
    if updated:
        facts_refresh([portout_id])


def facts_labelled(portout_id: str, label: str) -> None:
    """The port-out was labelled: its facts carry the new label at once."""
    PortOutFacts.objects.filter(portout_id=portout_id).update(outcome_label=label)


def facts_refresh_behind(*, limit: int = 20_000) -> int:
    """Refresh the port-outs whose facts are missing or older than what the cache now
    holds of them (their row, their details, a decision of ours); called after each sync."""
    behind = (
        PortOut.objects.filter(
            Q(facts__isnull=True)
            | Q(facts__computed_at__lt=F("synced_at"))
            | Q(facts__computed_at__lt=F("details_synced_at"))
            | Exists(
                ReviewAction.objects.filter(
                    portout_id=OuterRef("id"),
                    kind__in=[ReviewActionKind.AUTHORIZE, ReviewActionKind.REJECT],
                    finished_at__gt=OuterRef("facts__computed_at"),
                )
            )
        )
        .order_by()
        .values_list("id", flat=True)[:limit]
    )
    return facts_refresh(list(behind))


def _refresh_batch(ids: list[str]) -> int:
    now = timezone.now()
    portouts = list(
        PortOut.objects.filter(id__in=ids)
        .only("id", "status", "created_at", "updated_at", "carrier_name", "spid")
        .annotate(label=F("outcome__label"))
    )
    evidence = _evidence([p.id for p in portouts])
    for p in portouts:
        evidence[p.id].outcome_label = p.label or ""
    rows = [derive_facts(p, evidence[p.id], now=now) for p in portouts]
    PortOutFacts.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["portout"],
        update_fields=_FIELDS,
        batch_size=BATCH_SIZE,
    )
    return len(rows)


def _evidence(ids: list[str]) -> dict[str, Evidence]:
    found: dict[str, Evidence] = defaultdict(Evidence)
    events = PortOutEvent.objects.filter(
        portout_id__in=ids,
        event_type__in=[EventType.STATUS_CHANGED, EventType.FOC_DATE_CHANGED],
    ).values_list("portout_id", "event_type", "payload", "created_at", "received_at")
    for pid, event_type, payload, created_at, received_at in events:
        if event_type == EventType.FOC_DATE_CHANGED:
            found[pid].foc_changes += 1
        elif isinstance(payload, dict) and isinstance(payload.get("status"), str):
            reason = payload.get("rejection_reason")
            found[pid].changes.append(
                StatusChange(
                    created_at or received_at,
                    payload["status"],
                    str(reason) if reason else "",
                )
            )
    actions = (
        ReviewAction.objects.filter(
            portout_id__in=ids,
            kind__in=[ReviewActionKind.AUTHORIZE, ReviewActionKind.REJECT],
            outcome=ReviewAction.Outcome.SUCCEEDED,
        )
        .order_by("created_at")
        .values_list("portout_id", "kind", "user_id", "created_at", "inputs")
    )
    for pid, kind, user_id, created_at, inputs in actions:
        code = inputs.get("rejection_code") if isinstance(inputs, dict) else None
        found[pid].decisions.append(Decision(created_at, kind, user_id, str(code or "")))
    comments = Comment.objects.filter(portout_id__in=ids).values_list(
        "portout_id", "created_at", "body"
    )
    for pid, created_at, body in comments:
        found[pid].comments.append((created_at, body))
    alerts = (
        Notification.objects.filter(portout_id__in=ids)
        .values("portout_id")
        .annotate(first=Min("created_at"))
        .order_by()
        .values_list("portout_id", "first")
    )
    for pid, first in alerts:
        found[pid].first_alert_at = first
    claimed = PortOutFacts.objects.filter(
        portout_id__in=ids, first_claimed_at__isnull=False
    ).values_list("portout_id", "first_claimed_at")
    for pid, at in claimed:
        found[pid].first_claimed_at = at
    return found
