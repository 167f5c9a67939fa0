"""The weekly summary e-mail: last week's headline figures to a group, once a week.

Due on Mondays from METRICS_WEEKLY_HOUR, for Monday to Sunday before. The week is claimed
in the database (one conditional UPDATE) before the mail goes out, so two workers or two
beat ticks never both send it; a send that fails gives the claim back and the next hourly
tick tries again. A crash between the claim and the send skips that week (at most once).
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from portouts.metrics.periods import Period
from portouts.metrics.selectors import metrics_for
from portouts.metrics.tables import metrics_tables
from portouts.models import WeeklySummarySettings

logger = logging.getLogger(__name__)


def summary_week(now: datetime) -> tuple[date, Period]:
    """This week's Monday and the week before it (the one summarised)."""
    today = timezone.localdate(now)
    monday = today - timedelta(days=today.weekday())
    return monday, Period(monday - timedelta(days=7), monday - timedelta(days=1))


def weekly_summary_recipients(config: WeeklySummarySettings) -> list[str]:
    if config.group_id is None:
        return []
    users = get_user_model().objects.filter(groups=config.group_id, is_active=True)
    return sorted(set(users.exclude(email="").values_list("email", flat=True)))


def weekly_summary_send(*, now: datetime | None = None, force: bool = False) -> int:
    """Send last week's summary if it is due and not sent yet; return the recipients.

    `force` sends this week's summary even before Monday's hour (used by the tests and
    the command line), still at most once per week.
    """
    now = now or timezone.now()
    config = WeeklySummarySettings.load()
    monday, week = summary_week(now)
    if not config.enabled or (
        not force and timezone.localtime(now).hour < settings.METRICS_WEEKLY_HOUR
    ):
        return 0
    recipients = weekly_summary_recipients(config)
    if not recipients:
        return 0
    before = config.last_sent_week
    claimed = (
        WeeklySummarySettings.objects.filter(pk=config.pk)
        .filter(Q(last_sent_week__isnull=True) | Q(last_sent_week__lt=monday))
        .update(last_sent_week=monday)
    )
    if not claimed:
        return 0
    try:
        _message(week, recipients).send()
    except Exception:
        WeeklySummarySettings.objects.filter(pk=config.pk, last_sent_week=monday).update(
            last_sent_week=before
        )
        logger.warning("The weekly summary could not be sent; the next hour retries")
        raise
    return len(recipients)


def _message(week: Period, recipients: list[str]) -> EmailMultiAlternatives:
    metrics = metrics_for(week)
    context = {
        "metrics": metrics,
        "summary": metrics_tables(metrics)["summary"],
        "link": f"{settings.DASHBOARD_URL}{reverse('portouts:metrics')}?{week.query()}",
        "timeouts_link": (
            f"{settings.DASHBOARD_URL}{reverse('portouts:metrics_timeouts')}?{week.query()}"
        ),
    }
    subject = (
        f"Port-outs, week of {week.start:%d %b}: "
        f"{int(metrics.timeouts.value or 0)} authorized by timeout"
    )
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string("portouts/email/weekly_summary.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[settings.DEFAULT_FROM_EMAIL],
        bcc=recipients,
    )
    message.attach_alternative(
        render_to_string("portouts/email/weekly_summary.html", context), "text/html"
    )
    return message
