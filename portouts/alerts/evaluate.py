"""Rules evaluated in two places: by the sync's store step (what changed: a new pending
port-out, a FOC date, a rejection back to pending, a new comment or document), in the
sync's own transaction, and by beat every minute (what time brings: due soon, overdue, the
sync blind; plus escalations and the delivery sweep). Both write notification rows through
`delivery.notifications_store`, so the dedup key makes them one alert however often seen.

A rule alerts about what happened after it was created (port-outs, comments and documents
created since), so a new rule or the first sync never floods a channel with history.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from portouts.alerts import escalation
from portouts.alerts.delivery import notifications_store
from portouts.alerts.recipients import Message, notifications_for, route_for
from portouts.choices import AlertKind, CommentAuthor, PortOutStatus
from portouts.models import (
    AlertRoute,
    AlertRule,
    Comment,
    Escalation,
    Notification,
    PortOut,
    SupportingDocument,
    SyncRun,
)

REJECTED = {PortOutStatus.REJECTED, PortOutStatus.REJECTED_PENDING}
#: a rule alerts about what was created after it, give or take this (Telnyx's clock and ours)
CLOCK_SKEW = timedelta(minutes=1)
#: rules the store step answers from a port-out's row
CHANGE_KINDS = (AlertKind.NEW_PENDING, AlertKind.BACK_TO_PENDING, AlertKind.FOC_CHANGED)


@dataclass(frozen=True)
class Before:
    """What the cache held for a port-out before a sync wrote it (None: it is new)."""

    status: str
    foc_date: datetime | None


def _rules(kinds: Iterable[str]) -> list[AlertRule]:
    return list(
        AlertRule.objects.filter(enabled=True, kind__in=list(kinds)).prefetch_related(
            "routes__users", "routes__channels"
        )
    )


def _since(rule: AlertRule) -> datetime:
    return rule.created_at - CLOCK_SKEW


def _link(portout: PortOut) -> str:
    return f"{settings.DASHBOARD_URL.rstrip('/')}{portout.get_absolute_url()}"


def _label(portout: PortOut) -> str:
    return portout.support_key or portout.id


def _hours_left(portout: PortOut, now: datetime) -> float | None:
    if portout.created_at is None:
        return None
    due = portout.created_at + timedelta(hours=settings.REVIEW_WINDOW_HOURS)
    return (due - now).total_seconds() / 3600


def _message(rule: AlertRule, portout: PortOut, occasion: str, headline: str) -> Message:
    numbers = f"{portout.number_count} number{'s' if portout.number_count != 1 else ''}"
    body = (
        f"{headline}\n{numbers}, first {portout.first_number or '—'}; gaining carrier "
        f"{portout.carrier_name or '—'}; end user {portout.end_user_name or '—'}.\n{_link(portout)}"
    )
    return Message(rule, portout, occasion, f"{_label(portout)}: {headline}", body)


def alert(message: Message, now: datetime) -> list[int]:
    """Notify the rule's route for now (tier 0) and start its escalation if it has tiers.
    Once per rule, port-out and occasion, whichever route (day or after hours) took it."""
    route = route_for(message.rule, now)
    done = Notification.objects.filter(
        rule=message.rule, portout=message.portout, occasion=message.occasion, tier=0
    )
    if route is None or done.exists():
        return []
    ids = notifications_store(notifications_for(message, route, now))
    if message.rule.kind == AlertKind.DUE_SOON and message.portout is not None:
        escalation.escalation_start(message, now)
    return ids


# -- the sync's store step ------------------------------------------------------------------


class BatchWatch:
    """What one batch of the sync's store step means for the rules: built before the batch
    is written (one query for the rules, one more for the port-outs' previous status and
    FOC date when a rule needs them), told what was written after, in the same transaction.
    """

    def __init__(self, portout_ids: list[str]) -> None:
        kinds = [*CHANGE_KINDS, AlertKind.NEW_COMMENT, AlertKind.NEW_DOCUMENT]
        self.rules = _rules(kinds) if portout_ids else []
        self.before: dict[str, Before] = {}
        if any(r.kind in CHANGE_KINDS for r in self.rules):
            rows = PortOut.objects.filter(id__in=portout_ids).values_list(
                "id", "status", "foc_date"
            )
            self.before = {pk: Before(status, foc) for pk, status, foc in rows}

    def stored(
        self,
        rows: Iterable[PortOut],
        comments: Iterable[Comment],
        documents: Iterable[SupportingDocument],
    ) -> None:
        if not self.rules:
            return
        change_rules = [r for r in self.rules if r.kind in CHANGE_KINDS]
        if change_rules:
            on_portouts_stored(self.before, rows, change_rules)
        detail_rules = [r for r in self.rules if r.kind not in CHANGE_KINDS]
        if detail_rules:
            on_details_stored(comments, documents, detail_rules)


def _change_message(rule: AlertRule, po: PortOut, before: Before | None) -> Message | None:
    created_after = po.created_at is None or po.created_at >= _since(rule)
    if rule.kind == AlertKind.NEW_PENDING:
        if before is None and po.status == PortOutStatus.PENDING and created_after:
            return _message(rule, po, "new", "new pending port-out to review")
    elif rule.kind == AlertKind.BACK_TO_PENDING:
        if before and before.status in REJECTED and po.status == PortOutStatus.PENDING:
            stamp = po.updated_at.isoformat() if po.updated_at else "now"
            return _message(rule, po, f"pending@{stamp}", "a rejection came back to pending")
    elif rule.kind == AlertKind.FOC_CHANGED and before and before.foc_date != po.foc_date:
        day = po.foc_date.date().isoformat() if po.foc_date else "none"
        return _message(rule, po, f"foc@{day}", f"FOC date changed to {day}")
    return None


def on_portouts_stored(
    before: dict[str, Before], rows: Iterable[PortOut], rules: list[AlertRule]
) -> None:
    now = timezone.now()
    for po in rows:
        for rule in rules:
            message = _change_message(rule, po, before.get(po.id))
            if message is not None:
                alert(message, now)


def _headline(item: Comment | SupportingDocument, owner: str) -> str:
    if isinstance(item, Comment):
        who = Comment.author(item.user_id, owner).label
        return f"new comment ({who}): {item.body[:140]}"
    return f"document attached ({item.type})"


def on_details_stored(
    comments: Iterable[Comment], documents: Iterable[SupportingDocument], rules: list[AlertRule]
) -> None:
    """The comments and documents new to the cache. Our own team's comments carry the
    account's user id (the port-out's) and alert nobody."""
    comments, documents = list(comments), list(documents)
    if not comments and not documents:
        return
    now = timezone.now()
    ids = {c.portout_id for c in comments} | {d.portout_id for d in documents}
    portouts = PortOut.objects.in_bulk(list(ids))
    by_kind: dict[str, list[Comment | SupportingDocument]] = {
        AlertKind.NEW_COMMENT: [
            c
            for c in comments
            if c.portout_id in portouts
            and Comment.author(c.user_id, portouts[c.portout_id].user_id) != CommentAuthor.OUR_TEAM
        ],
        AlertKind.NEW_DOCUMENT: list(documents),
    }
    for rule in rules:
        for item in by_kind[rule.kind]:
            po = portouts.get(item.portout_id)
            if po is None or (item.created_at and item.created_at < _since(rule)):
                continue
            alert(_message(rule, po, f"{rule.kind}:{item.pk}", _headline(item, po.user_id)), now)


def alert_end_user_no(portout: PortOut, *, occasion: str, answered_at: datetime) -> list[int]:
    """The end user answered No through the confirmation link: once per answer (the
    occasion names the confirmation request), to each enabled rule of that kind, in the
    caller's transaction (the answer and its alert are stored together)."""
    ids: list[int] = []
    for rule in _rules([AlertKind.END_USER_NO]):
        if answered_at >= _since(rule):
            headline = "the end user answered No: they did not request this transfer"
            ids += alert(_message(rule, portout, occasion, headline), answered_at)
    return ids


# -- beat ---------------------------------------------------------------------------------


def _pending() -> QuerySet[PortOut]:
    return PortOut.objects.pending().exclude(created_at=None)


def _alerted(rule: AlertRule) -> set[tuple[str | None, str]]:
    """(port-out, occasion) pairs this rule already alerted: one query per rule and tick."""
    rows = Notification.objects.filter(rule=rule, tier=0).values_list("portout_id", "occasion")
    return set(rows.distinct())


def _due_soon(rule: AlertRule, now: datetime) -> None:
    thresholds = sorted({float(t) for t in rule.thresholds_hours or [] if float(t) > 0})
    if not thresholds:
        return
    window = timedelta(hours=settings.REVIEW_WINDOW_HOURS)
    oldest = now - window
    youngest = now - window + timedelta(hours=thresholds[-1])
    alerted = _alerted(rule)
    for po in _pending().filter(created_at__gt=oldest, created_at__lte=youngest):
        left = _hours_left(po, now)
        crossed = [t for t in thresholds if left is not None and left <= t]
        if crossed and (po.id, label := f"{crossed[0]:g}h") not in alerted:
            t = crossed[0]
            alert(_message(rule, po, label, f"{t:g} h left to decide"), now)


def _overdue(rule: AlertRule, now: datetime) -> None:
    window = timedelta(hours=settings.REVIEW_WINDOW_HOURS)
    alerted = _alerted(rule)
    # Those whose window ended after the rule was created: a new rule is not a flood.
    became = _since(rule) - window
    for po in _pending().filter(created_at__lte=now - window, created_at__gte=became):
        if (po.id, "overdue") in alerted:
            continue
        alert(_message(rule, po, "overdue", "past the review window, still pending in Telnyx"), now)


def _new_pending(rule: AlertRule, now: datetime) -> None:
    """Catch-up for port-outs the store step did not see (rows written by other paths)."""
    seen = Notification.objects.filter(rule=rule, occasion="new").values("portout_id")
    fresh = _pending().filter(created_at__gte=_since(rule)).exclude(id__in=seen)
    for po in fresh[:200]:
        alert(_message(rule, po, "new", "new pending port-out to review"), now)


def _sync_blind(rule: AlertRule, now: datetime) -> None:
    runs = SyncRun.objects.filter(kind__in=(SyncRun.Kind.FULL, SyncRun.Kind.INCREMENTAL))
    good = runs.filter(status=SyncRun.Status.SUCCEEDED).order_by("-finished_at").first()
    if good is None or good.finished_at is None:
        return
    last = runs.exclude(status=SyncRun.Status.RUNNING).order_by("-started_at").first()
    age = now - good.finished_at
    failing = last is not None and last.status == SyncRun.Status.FAILED
    if age < timedelta(minutes=rule.stale_minutes) and not failing:
        return
    minutes = int(age.total_seconds() // 60)
    title = f"The dashboard is blind: last successful sync {minutes} min ago"
    detail = f" The last run failed: {last.error[:300]}" if failing and last else ""
    body = f"{title}.{detail}\n{settings.DASHBOARD_URL.rstrip('/')}/sync/"
    alert(Message(rule, None, f"blind-since-{good.pk}", title, body), now)


_BEAT = {
    AlertKind.NEW_PENDING: _new_pending,
    AlertKind.DUE_SOON: _due_soon,
    AlertKind.OVERDUE: _overdue,
    AlertKind.SYNC_BLIND: _sync_blind,
}


def alerts_evaluate(*, now: datetime | None = None) -> dict[str, int]:
    """Beat: the time-driven rules, then escalations; each rule in its own transaction."""
    from django.db import transaction

    from portouts.alerts.delivery import notifications_sweep

    now = now or timezone.now()
    before = Notification.objects.count()
    for rule in _rules(_BEAT):
        with transaction.atomic():
            _BEAT[AlertKind(rule.kind)](rule, now)
    escalated = escalation.escalations_advance(now)
    swept = notifications_sweep(now=now)
    return {"created": Notification.objects.count() - before, "escalated": escalated, **swept}


def alert_tier(esc: Escalation, route: AlertRoute, tier: int, now: datetime) -> list[int]:
    """Escalation: the same alert, to tier n's recipients."""
    po = esc.portout
    left = _hours_left(po, now)
    when = f"{left:.1f} h left" if left is not None and left > 0 else "the window has ended"
    headline = f"escalated (tier {tier}): not acknowledged, {when}"
    message = _message(esc.rule, po, esc.occasion, headline)
    return notifications_store(notifications_for(replace(message, tier=tier), route, now))
