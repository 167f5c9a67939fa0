"""Template tags of alerts: the unread indicator, claim and escalation badges (one query
per page for any number of rows), a port-out's claim panel, the staff footer."""

from __future__ import annotations

from typing import Any, cast

from django import template
from django.template.loader import get_template

from portouts.alerts import selectors
from portouts.roles import REVIEW_PERMISSION

register = template.Library()


@register.inclusion_tag("alerts/_unread.html", takes_context=True)
def unread_alerts(context: template.Context) -> dict[str, Any]:
    user = context["request"].user
    return {"count": selectors.unread_count(user.pk) if user.is_authenticated else 0}


def _page_state(context: template.Context) -> tuple[dict[str, Any], dict[str, Any]]:
    """Active claims and escalations, read once per render whatever the number of rows.

    Kept at the render's outermost level: each included template (a queue row is one) gets
    a level of its own, which would otherwise read the state again for every row.
    """
    outermost = cast(dict[str, Any], context.render_context.dicts[0])
    if "alerts_state" not in outermost:
        outermost["alerts_state"] = (selectors.active_claims(), selectors.active_escalations())
    return outermost["alerts_state"]  # type: ignore[no-any-return]


@register.simple_tag(takes_context=True)
def alert_badges(context: template.Context, portout_id: str) -> str:
    """A row's claim and escalation badges; nothing, without rendering, for the many rows
    that have neither (the queue draws hundreds)."""
    claims, escalations = _page_state(context)
    claim, escalation = claims.get(portout_id), escalations.get(portout_id)
    if claim is None and escalation is None:
        return ""
    badges = {"claim": claim, "escalation": escalation, "me": context["request"].user.pk}
    return get_template("alerts/_row_badges.html").render(badges)


@register.inclusion_tag("portouts/_claim.html", takes_context=True)
def portout_claim(context: template.Context, portout: Any) -> dict[str, Any]:
    request = context["request"]
    claims = selectors.active_claims([portout.pk])
    return {
        "portout": portout,
        "claim": claims.get(portout.pk),
        "me": request.user.pk,
        "can_claim": request.user.has_perm(REVIEW_PERMISSION),
        "escalations": selectors.portout_escalations(portout.pk),
        "csrf_token": context.get("csrf_token"),
    }


@register.inclusion_tag("alerts/_footer.html", takes_context=True)
def delivery_problems(context: template.Context) -> dict[str, Any]:
    user = context["request"].user
    if not user.is_staff:
        return {"count": 0}
    return selectors.delivery_problems()
