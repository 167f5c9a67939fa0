"""What pages read about alerts: claims, escalations, the delivery log, a person's unread
alerts, a port-out's alert timeline entries and the failures the staff footer shows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone

from portouts.choices import NotificationState
from portouts.models import Escalation, Notification, PortOutClaim
from portouts.timeline import TimelineEntry

PROBLEM_STATES = (NotificationState.FAILED, NotificationState.UNCERTAIN)


def active_claims(portout_ids: list[str] | None = None) -> dict[str, PortOutClaim]:
    """Unexpired claims by port-out id (all of them when no ids are given): one query."""
    claims = PortOutClaim.objects.filter(expires_at__gt=timezone.now()).select_related("user")
    if portout_ids is not None:
        claims = claims.filter(portout_id__in=portout_ids)
    return {c.portout_id: c for c in claims}


def active_escalations(portout_ids: list[str] | None = None) -> dict[str, Escalation]:
    """The most advanced running escalation per port-out: one query."""
    rows = Escalation.objects.filter(stopped_at=None).select_related("rule").order_by("tier")
    if portout_ids is not None:
        rows = rows.filter(portout_id__in=portout_ids)
    return {e.portout_id: e for e in rows}


def portout_escalations(portout_id: str) -> list[Escalation]:
    return list(
        Escalation.objects.filter(portout_id=portout_id)
        .select_related("rule")
        .order_by("-started_at")[:5]
    )


def _recipient(n: Notification) -> str:
    if n.channel_id and n.channel is not None:
        return f"{n.channel.name} on {n.channel.get_kind_display()}"
    if n.user_id and n.user is not None:
        return f"{n.user.get_username()} ({'e-mail' if n.by_email else 'dashboard'})"
    return "a removed channel"


def alert_timeline_items(portout_id: str) -> list[TimelineEntry]:
    """Timeline entries of a port-out's alerts, e.g. "Alerted #porting on Slack, 2h"."""
    rows = Notification.objects.filter(portout_id=portout_id).select_related("channel", "user")
    items = []
    for n in rows.order_by("created_at")[:200]:
        tier = f", tier {n.tier}" if n.tier else ""
        title = f"Alerted {_recipient(n)}, {n.occasion}{tier}"
        problem = n.state in PROBLEM_STATES
        items.append(
            TimelineEntry(
                kind="alert",
                at=n.sent_at or n.created_at,
                portout_id=portout_id,
                title=title,
                body=n.last_error if problem else n.get_kind_display(),
                actor="Alerts",
                outcome="failed" if problem else "",
                outcome_label=n.get_state_display() if n.state != NotificationState.SENT else "",
            )
        )
    return items


@dataclass(frozen=True)
class LogFilters:
    state: str = ""
    channel: str = ""
    rule: str = ""
    portout: str = ""


def delivery_log(filters: LogFilters) -> QuerySet[Notification]:
    rows = Notification.objects.select_related("rule", "channel", "user", "portout")
    if filters.state:
        rows = rows.filter(state=filters.state)
    if filters.channel.isdigit():
        rows = rows.filter(channel_id=int(filters.channel))
    if filters.rule.isdigit():
        rows = rows.filter(rule_id=int(filters.rule))
    if filters.portout:
        rows = rows.filter(Q(portout_id=filters.portout) | Q(portout__support_key=filters.portout))
    return rows.defer("body", "portout__raw")


def unread_count(user_id: int) -> int:
    return Notification.objects.filter(user_id=user_id, read_at=None).count()


def my_alerts(user_id: int, *, limit: int = 50) -> list[Notification]:
    return list(
        Notification.objects.filter(user_id=user_id)
        .select_related("portout")
        .defer("portout__raw")
        .order_by("-created_at")[:limit]
    )


def delivery_problems(*, since: timedelta = timedelta(days=1)) -> dict[str, object]:
    """For the staff footer: notifications failed or uncertain in the last day."""
    recent: datetime = timezone.now() - since
    rows = Notification.objects.filter(state__in=PROBLEM_STATES, created_at__gte=recent)
    last = rows.select_related("channel").order_by("-created_at").first()
    return {"count": rows.count(), "last": last}
