"""A real Celery worker killed while it sends an alert: the alert is neither lost from the
log nor sent twice."""

from __future__ import annotations

import os
import signal
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from portouts.alerts.delivery import notification_deliver, notifications_sweep
from portouts.alerts.evaluate import alerts_evaluate
from portouts.choices import AlertKind, ChannelKind, NotificationState
from portouts.models import Notification

pytestmark = pytest.mark.worker


def test_a_worker_killed_mid_send_neither_loses_nor_doubles(
    alert_settings,
    smtp_server,
    make_channel,
    make_rule,
    make_portout,
    celery_worker_process,
):
    mail = make_channel(ChannelKind.EMAIL, "porting@example.com")
    make_rule(AlertKind.OVERDUE, channels=[mail])
    make_portout(created_at=timezone.now() - timedelta(hours=24, seconds=30))
    smtp_server.hold.set()  # the server keeps the worker waiting in DATA

    alerts_evaluate()  # autocommit: the task is queued at once, to the worker
    assert smtp_server.holding.wait(30), celery_worker_process.log()
    row = Notification.objects.get()
    assert row.state == NotificationState.SENDING and row.attempts == 1
    os.kill(celery_worker_process.process.pid, signal.SIGKILL)
    celery_worker_process.process.wait(10)
    smtp_server.release.set()
    assert len(smtp_server.wait_for(1)) == 1  # the message had left before the kill

    # The message redelivered to another worker finds the row claimed: nothing is sent.
    assert notification_deliver(row.pk) is None
    with time_machine.travel(timezone.now() + timedelta(minutes=5)):
        assert notifications_sweep()["uncertain"] == 1
        assert notifications_sweep()["uncertain"] == 0
    row.refresh_from_db()
    assert row.state == NotificationState.UNCERTAIN
    assert "never sent twice" in row.last_error
    assert len(smtp_server.messages) == 1


def test_a_worker_sends_a_queued_alert_once(
    alert_settings,
    smtp_server,
    http_receiver,
    make_channel,
    make_rule,
    make_portout,
    celery_worker_process,
):
    hook = make_channel(ChannelKind.JSON, http_receiver.url)
    mail = make_channel(ChannelKind.EMAIL, "porting@example.com")
    make_rule(AlertKind.OVERDUE, channels=[hook, mail])
    make_portout(created_at=timezone.now() - timedelta(hours=24, seconds=30))
    alerts_evaluate()
    alerts_evaluate()
    celery_worker_process.wait_for(
        lambda: Notification.objects.filter(state=NotificationState.SENT).count() == 2
    )
    assert len(http_receiver.wait_for(1)) == 1 and len(smtp_server.wait_for(1)) == 1
