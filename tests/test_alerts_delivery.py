"""Alerts end to end against the sandbox, a real SMTP server and a real HTTP receiver:
one alert per rule, port-out and threshold; retries then failure; escalation; business
hours; secrets kept out of logs and pages."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, time, timedelta

import pytest
import time_machine
from django.utils import timezone

from portouts import sync
from portouts.alerts.delivery import notification_deliver, notifications_sweep
from portouts.alerts.evaluate import alerts_evaluate, on_details_stored
from portouts.choices import AlertKind, ChannelKind, NotificationState
from portouts.models import AlertRule, Comment, Escalation, Notification, PortOut

pytestmark = pytest.mark.django_db(transaction=False)


@pytest.fixture
def channels(alert_settings, make_channel, http_receiver):
    mail = make_channel(ChannelKind.EMAIL, "porting@example.com", name="porting mail")
    hook = make_channel(ChannelKind.JSON, http_receiver.url, name="#porting")
    return mail, hook


def _tick(capture):
    """One beat tick, its after-commit sends run (tasks eager)."""
    with capture(execute=True):
        return alerts_evaluate()


def _sync(capture):
    with capture(execute=True):
        sync.run_incremental_sync(triggered_by="test")


def test_a_new_pending_portout_sends_one_email_and_one_webhook_once(
    synced,
    channels,
    make_rule,
    eager_tasks,
    smtp_server,
    http_receiver,
    django_capture_on_commit_callbacks,
    django_assert_max_num_queries,
):
    make_rule(AlertKind.NEW_PENDING, channels=list(channels))
    po = synced.state.create_portout()
    _sync(django_capture_on_commit_callbacks)
    _tick(django_capture_on_commit_callbacks)

    assert len(smtp_server.wait_for(1)) == 1
    assert len(http_receiver.wait_for(1)) == 1
    cached = PortOut.objects.get(pk=po.id)
    assert (cached.support_key or cached.id) in smtp_server.texts()[0]
    assert "new pending port-out" in http_receiver.payloads()[0]["message"]

    # Repeated syncs, a webhook refresh and more ticks send nothing again.
    _sync(django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        sync.refresh_portout(po.id)
    with django_assert_max_num_queries(20):
        _tick(django_capture_on_commit_callbacks)
    _tick(django_capture_on_commit_callbacks)
    assert len(smtp_server.messages) == 1
    assert len(http_receiver.received) == 1
    assert Notification.objects.filter(state=NotificationState.SENT).count() == 2


def test_seeded_history_alerts_nobody(
    synced, channels, make_rule, eager_tasks, smtp_server, django_capture_on_commit_callbacks
):
    make_rule(AlertKind.NEW_PENDING, channels=list(channels))
    with django_capture_on_commit_callbacks(execute=True):
        sync.run_full_sync(triggered_by="test")
    _tick(django_capture_on_commit_callbacks)
    assert Notification.objects.count() == 0


def test_due_soon_alerts_once_per_threshold(
    channels,
    make_rule,
    make_portout,
    eager_tasks,
    smtp_server,
    http_receiver,
    django_capture_on_commit_callbacks,
):
    make_rule(AlertKind.DUE_SOON, channels=[channels[1]], thresholds_hours=[8, 2])
    now = timezone.now()
    po = make_portout(created_at=now - timedelta(hours=17))  # 7 h left of 24
    _tick(django_capture_on_commit_callbacks)
    _tick(django_capture_on_commit_callbacks)
    assert len(http_receiver.wait_for(1)) == 1
    with time_machine.travel(now + timedelta(hours=5, minutes=30), tick=False):  # 1.5 h left
        _tick(django_capture_on_commit_callbacks)
        _tick(django_capture_on_commit_callbacks)
    assert len(http_receiver.wait_for(2)) == 2
    assert sorted(Notification.objects.filter(portout=po).values_list("occasion", flat=True)) == [
        "2h",
        "8h",
    ]
    assert "2 h left" in http_receiver.payloads()[1]["message"]


def test_unacknowledged_alert_escalates_and_a_claim_stops_it(
    alert_settings,
    make_channel,
    make_rule,
    make_portout,
    eager_tasks,
    smtp_server,
    http_receiver,
    reviewer,
    django_capture_on_commit_callbacks,
):
    from portouts.alerts.claims import portout_claim_take

    team = make_channel(ChannelKind.JSON, http_receiver.url, name="#porting")
    oncall = make_channel(ChannelKind.EMAIL, "oncall@example.com", name="on-call")
    lead = make_channel(ChannelKind.EMAIL, "lead@example.com", name="lead")
    make_rule(
        AlertKind.DUE_SOON,
        channels=[team],
        thresholds_hours=[8],
        tiers=[(15, [oncall]), (15, [lead])],
    )
    now = timezone.now()
    escalating = make_portout(created_at=now - timedelta(hours=17))
    claimed = make_portout(created_at=now - timedelta(hours=17))
    _tick(django_capture_on_commit_callbacks)
    assert len(http_receiver.wait_for(2)) == 2
    assert smtp_server.messages == []

    with time_machine.travel(now + timedelta(minutes=10), tick=False):
        portout_claim_take(claimed.id, reviewer)
        _tick(django_capture_on_commit_callbacks)
    assert smtp_server.messages == []  # not yet: 15 minutes

    with time_machine.travel(now + timedelta(minutes=16), tick=False):
        _tick(django_capture_on_commit_callbacks)
    mails = smtp_server.wait_for(1)
    assert [m.rcpt_tos for m in mails] == [["oncall@example.com"]]
    assert escalating.support_key in smtp_server.texts()[0]
    esc = Escalation.objects.get(portout=escalating)
    assert esc.tier == 1 and esc.stopped_at is None
    stopped = Escalation.objects.get(portout=claimed)
    assert stopped.stopped_at is not None and stopped.stop_reason == "claimed by rita"

    with time_machine.travel(now + timedelta(minutes=32), tick=False):
        _tick(django_capture_on_commit_callbacks)
    assert [m.rcpt_tos for m in smtp_server.wait_for(2)][1] == ["lead@example.com"]
    with time_machine.travel(now + timedelta(minutes=60), tick=False):
        _tick(django_capture_on_commit_callbacks)
    assert len(smtp_server.messages) == 2  # no tier 3


def test_business_hours_route_to_after_hours_recipients(
    alert_settings,
    make_channel,
    make_rule,
    make_portout,
    eager_tasks,
    smtp_server,
    http_receiver,
    django_capture_on_commit_callbacks,
):
    day = make_channel(ChannelKind.JSON, http_receiver.url, name="#porting")
    night = make_channel(ChannelKind.EMAIL, "oncall@example.com", name="on-call")
    make_rule(
        AlertKind.OVERDUE,
        channels=[day],
        after_hours=[night],
        business_timezone="Europe/Paris",
        business_weekdays=[0, 1, 2, 3, 4],
        business_start=time(9),
        business_end=time(18),
    )
    saturday_night = datetime(2030, 6, 1, 23, 30, tzinfo=UTC)  # a Saturday, 01:30 in Paris
    with time_machine.travel(saturday_night - timedelta(days=3), tick=False):
        from portouts.models import AlertRule

        AlertRule.objects.update(created_at=timezone.now())
    make_portout(created_at=saturday_night - timedelta(hours=30))
    with time_machine.travel(saturday_night, tick=False):
        _tick(django_capture_on_commit_callbacks)
    assert [m.rcpt_tos for m in smtp_server.wait_for(1)] == [["oncall@example.com"]]
    assert http_receiver.received == []

    monday_noon = datetime(2030, 6, 3, 10, 0, tzinfo=UTC)  # 12:00 in Paris
    make_portout(created_at=monday_noon - timedelta(hours=30))
    with time_machine.travel(monday_noon, tick=False):
        _tick(django_capture_on_commit_callbacks)
    assert len(http_receiver.wait_for(1)) == 1
    assert len(smtp_server.messages) == 1


@pytest.mark.parametrize("fault", ["smtp-550", "http-404", "http-timeout"])
def test_a_refusing_channel_is_retried_then_marked_failed(
    fault,
    alert_settings,
    make_channel,
    make_rule,
    make_portout,
    smtp_server,
    http_receiver,
    django_capture_on_commit_callbacks,
):
    if fault == "smtp-550":
        smtp_server.reply = "550 5.1.1 Mailbox unavailable"
        channel = make_channel(ChannelKind.EMAIL, "porting@example.com")
    else:
        channel = make_channel(ChannelKind.JSON, http_receiver.url)
        if fault == "http-404":
            http_receiver.statuses = [404] * 10
        else:
            http_receiver.delay = 2.5  # over the 1 s read timeout
    make_rule(AlertKind.OVERDUE, channels=[channel])
    po = make_portout(created_at=timezone.now() - timedelta(hours=24, seconds=30))
    with django_capture_on_commit_callbacks(execute=False):
        alerts_evaluate()
    row = Notification.objects.get(portout=po)
    states = [notification_deliver(row.pk) for _ in range(3)]
    row.refresh_from_db()
    assert states == ["pending", "pending", "failed"]
    assert row.attempts == 3 and row.state == NotificationState.FAILED
    expected = {"smtp-550": "550", "http-404": "404", "http-timeout": "timed out"}[fault]
    assert expected in row.last_error.lower() or expected in row.last_error, row.last_error
    assert http_receiver.url not in row.last_error
    assert notification_deliver(row.pk) is None  # failed stays failed


def test_a_channel_url_is_encrypted_masked_and_never_logged(
    alert_settings,
    make_channel,
    make_rule,
    make_portout,
    http_receiver,
    caplog,
    admin_client_user,
    django_capture_on_commit_callbacks,
):
    secret = "s3cr3t-t0ken-XYZ"
    url = http_receiver.url.replace("http://", f"http://bot:{secret}@") + f"/{secret}"
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="apprise")
    caplog.set_level(logging.DEBUG, logger="urllib3")
    channel = make_channel(ChannelKind.JSON, url)
    assert secret not in channel.target_encrypted and secret not in channel.target_masked
    http_receiver.statuses = [500]
    make_rule(AlertKind.OVERDUE, channels=[channel])
    make_portout(created_at=timezone.now() - timedelta(hours=24, seconds=30))
    with django_capture_on_commit_callbacks(execute=False):
        alerts_evaluate()
    row = Notification.objects.get()
    assert notification_deliver(row.pk) == "pending"
    assert notification_deliver(row.pk) == "sent"
    assert len(http_receiver.received) == 1
    assert secret not in caplog.text
    for page in ("/alerts/log/", "/alerts/channels/", f"/portouts/{row.portout_id}/"):
        response = admin_client_user.get(page)
        assert response.status_code == 200, page
        assert secret not in response.content.decode()


def test_a_row_whose_sender_died_mid_send_is_never_sent_again(
    channels,
    make_rule,
    make_portout,
    smtp_server,
    django_capture_on_commit_callbacks,
):
    make_rule(AlertKind.OVERDUE, channels=[channels[0]])
    make_portout(created_at=timezone.now() - timedelta(hours=24, seconds=30))
    with django_capture_on_commit_callbacks(execute=False):
        alerts_evaluate()
    row = Notification.objects.get()
    # The state a worker killed after its claim leaves behind.
    Notification.objects.filter(pk=row.pk).update(
        state=NotificationState.SENDING,
        attempts=1,
        lease_until=timezone.now() - timedelta(seconds=1),
    )
    assert notification_deliver(row.pk) is None
    assert notifications_sweep() == {"uncertain": 1, "requeued": 0}
    row.refresh_from_db()
    assert row.state == NotificationState.UNCERTAIN
    assert smtp_server.messages == []


def test_people_get_email_unless_muted_dashboard_only_or_quiet(
    alert_settings,
    make_rule,
    make_portout,
    reviewer,
    admin_user,
    viewer,
    eager_tasks,
    smtp_server,
    django_capture_on_commit_callbacks,
):
    from portouts.models import AlertPreference

    for user, address in (
        (reviewer, "rita@example.com"),
        (admin_user, "ada@example.com"),
        (viewer, "vera@example.com"),
    ):
        user.email = address
        user.save()
    rule = make_rule(AlertKind.OVERDUE, users=[reviewer, admin_user, viewer])
    AlertPreference.objects.create(user=admin_user, method="dashboard")
    muted = AlertPreference.objects.create(user=viewer)
    muted.muted_rules.add(rule)
    make_portout(created_at=timezone.now() - timedelta(hours=24, seconds=30))
    _tick(django_capture_on_commit_callbacks)
    assert [m.rcpt_tos for m in smtp_server.wait_for(1)] == [["rita@example.com"]]
    rows = {n.user.username: n for n in Notification.objects.select_related("user")}
    assert set(rows) == {"rita", "ada"}
    assert rows["ada"].state == NotificationState.SENT and not rows["ada"].by_email

    AlertPreference.objects.create(
        user=reviewer, quiet_timezone="UTC", quiet_start=time(0), quiet_end=time(23, 59)
    )
    make_portout(created_at=timezone.now() - timedelta(hours=24, seconds=30))
    _tick(django_capture_on_commit_callbacks)
    assert len(smtp_server.messages) == 1  # quiet hours: the dashboard only
    assert Notification.objects.filter(user=reviewer, by_email=False).count() == 1


def test_a_row_whose_task_was_lost_is_sent_by_the_sweep(
    channels,
    make_rule,
    make_portout,
    eager_tasks,
    smtp_server,
    django_capture_on_commit_callbacks,
):
    make_rule(AlertKind.OVERDUE, channels=[channels[0]])
    make_portout(created_at=timezone.now() - timedelta(hours=24, seconds=30))
    with django_capture_on_commit_callbacks(execute=False):  # the broker lost the task
        alerts_evaluate()
    assert smtp_server.messages == []
    with time_machine.travel(timezone.now() + timedelta(minutes=1)):
        assert notifications_sweep()["requeued"] == 1
        assert notifications_sweep()["requeued"] == 0
    assert len(smtp_server.wait_for(1)) == 1


def test_a_failing_sync_alerts_once_per_blind_period(
    channels,
    make_rule,
    eager_tasks,
    http_receiver,
    django_capture_on_commit_callbacks,
):
    from portouts.models import SyncRun

    make_rule(AlertKind.SYNC_BLIND, channels=[channels[1]], stale_minutes=10)
    now = timezone.now()
    good = SyncRun.objects.create(
        kind="incremental",
        status="succeeded",
        triggered_by="beat",
        finished_at=now - timedelta(minutes=29),
    )
    bad = SyncRun.objects.create(
        kind="incremental",
        status="failed",
        triggered_by="beat",
        finished_at=now - timedelta(minutes=1),
        error="Telnyx answered 503.",
    )
    SyncRun.objects.filter(pk=good.pk).update(started_at=now - timedelta(minutes=30))
    SyncRun.objects.filter(pk=bad.pk).update(started_at=now - timedelta(minutes=2))
    _tick(django_capture_on_commit_callbacks)
    _tick(django_capture_on_commit_callbacks)
    payloads = [p["message"] for p in (http_receiver.wait_for(1) and http_receiver.payloads())]
    assert len(payloads) == 1 and "blind" in payloads[0] and "503" in payloads[0]


def test_a_quiet_tick_costs_the_same_whatever_the_port_outs_already_alerted(
    channels,
    make_rule,
    make_portout,
    eager_tasks,
    http_receiver,
    django_capture_on_commit_callbacks,
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for kind in (AlertKind.DUE_SOON, AlertKind.OVERDUE, AlertKind.NEW_PENDING):
        make_rule(kind, channels=[channels[1]], thresholds_hours=[8, 2])
    counts = []
    for n in (5, 40):
        for _ in range(n - (5 if counts else 0)):
            make_portout(created_at=timezone.now() - timedelta(hours=20))
        _tick(django_capture_on_commit_callbacks)  # alerts them
        with CaptureQueriesContext(connection) as ctx:
            _tick(django_capture_on_commit_callbacks)  # nothing new
        counts.append(len(ctx.captured_queries))
    print(f"quiet beat tick, 3 rules: {counts[0]} queries (5 port-outs), {counts[1]} (40)")
    assert counts[0] == counts[1] <= 25


def test_comments_alert_by_author_and_our_teams_own_alert_nobody(
    alert_settings, make_channel, make_rule, make_portout, http_receiver
):
    make_rule(AlertKind.NEW_COMMENT, channels=[make_channel(ChannelKind.JSON, http_receiver.url)])
    po = make_portout(user_id="account-user")
    now = timezone.now()
    comments = [
        Comment.objects.create(id=cid, portout=po, body=body, user_id=user, created_at=now)
        for cid, body, user in [
            ("c-ours", "We are checking", "account-user"),
            ("c-staff", "Porting Ops here", ""),
            ("c-carrier", "New LOA attached", "carrier-user"),
        ]
    ]
    on_details_stored(comments, [], list(AlertRule.objects.all()))
    titles = sorted(Notification.objects.values_list("occasion", "title"))
    assert [occasion for occasion, _ in titles] == ["new_comment:c-carrier", "new_comment:c-staff"]
    assert "new comment (Gaining carrier): New LOA attached" in titles[0][1]
    assert "new comment (Telnyx staff): Porting Ops here" in titles[1][1]
