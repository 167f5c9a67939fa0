"""Who a rule reaches now: its route (primary, after hours, or an escalation tier) expanded
into one notification per channel and per person, each person's preferences applied."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.contrib.auth import get_user_model

from portouts.choices import DeliveryMethod, NotificationState, RouteRole
from portouts.models import AlertPreference, AlertRoute, AlertRule, Notification, PortOut


@dataclass(frozen=True)
class Message:
    """What one alert says, and what makes it one alert (its dedup key's first parts)."""

    rule: AlertRule
    portout: PortOut | None
    occasion: str
    title: str
    body: str
    tier: int = 0


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _within(start: time, end: time, at: time) -> bool:
    """Inside [start, end), across midnight when end <= start."""
    return start <= at < end if start < end else at >= start or at < end


def in_business_hours(rule: AlertRule, now: datetime) -> bool:
    local = now.astimezone(_zone(rule.business_timezone))
    if local.weekday() not in rule.business_weekdays:
        return False
    assert rule.business_start and rule.business_end
    return _within(rule.business_start, rule.business_end, local.time())


def route_for(rule: AlertRule, now: datetime, *, tier: int = 0) -> AlertRoute | None:
    """Tier n's route; for tier 0 the after-hours route outside business hours (if any)."""
    routes = list(rule.routes.all())  # prefetched by callers
    if tier:
        return next((r for r in routes if r.role == RouteRole.TIER and r.position == tier), None)
    primary = next((r for r in routes if r.role == RouteRole.PRIMARY), None)
    if rule.has_business_hours and not in_business_hours(rule, now):
        after = next((r for r in routes if r.role == RouteRole.AFTER_HOURS), None)
        return after or primary
    return primary


def _quiet(pref: AlertPreference | None, now: datetime) -> bool:
    if pref is None or not (pref.quiet_start and pref.quiet_end):
        return False
    local = now.astimezone(_zone(pref.quiet_timezone)).time()
    return _within(pref.quiet_start, pref.quiet_end, local)


def _people(route: AlertRoute) -> list:
    users = {u.pk: u for u in route.users.all() if u.is_active}
    if route.group_id:
        for u in get_user_model().objects.filter(groups=route.group_id, is_active=True):
            users.setdefault(u.pk, u)
    return list(users.values())


def notifications_for(message: Message, route: AlertRoute, now: datetime) -> list[Notification]:
    """Unsaved rows, one per enabled channel and per person who did not mute the rule."""
    base = f"{message.rule.pk}:{message.portout.pk if message.portout else '-'}"
    key = f"{base}:{message.occasion}:{message.tier}"
    common = {
        "rule": message.rule,
        "portout": message.portout,
        "kind": message.rule.kind,
        "occasion": message.occasion,
        "tier": message.tier,
        "title": message.title[:255],
        "body": message.body,
        "created_at": now,
    }
    rows = [
        Notification(channel=ch, dedup_key=f"{key}:c{ch.pk}"[:255], **common)
        for ch in route.channels.all()
        if ch.enabled
    ]
    people = _people(route)
    prefs = {
        p.user_id: p
        for p in AlertPreference.objects.filter(user__in=people).prefetch_related("muted_rules")
    }
    for user in people:
        pref = prefs.get(user.pk)
        if pref and any(r.pk == message.rule.pk for r in pref.muted_rules.all()):
            continue
        by_email = bool(user.email) and not _quiet(pref, now)
        if pref and pref.method == DeliveryMethod.DASHBOARD:
            by_email = False
        rows.append(
            Notification(
                user=user,
                by_email=by_email,
                dedup_key=f"{key}:u{user.pk}"[:255],
                # Shown in the dashboard at once; only an e-mail copy waits for a worker.
                state=NotificationState.PENDING if by_email else NotificationState.SENT,
                sent_at=None if by_email else now,
                **common,
            )
        )
    return rows
