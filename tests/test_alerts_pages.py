"""Claims, the alerts pages and their permissions, channel and rule validation."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.utils import timezone

from portouts.alerts.claims import ClaimRefused, portout_claim_take
from portouts.choices import AlertKind, ChannelKind, NotificationState
from portouts.models import AlertChannel, AlertRule, Notification, PortOutClaim
from portouts.roles import REVIEWER

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_passwords")]


@pytest.fixture
def ben(django_user_model):
    user = django_user_model.objects.create_user("ben", password="x" * 12)
    user.groups.add(Group.objects.get(name=REVIEWER))
    return user


def test_take_shows_claimed_by_me_and_others_see_who_and_since(
    reviewer_client, ben, client, make_portout
):
    po = make_portout()
    response = reviewer_client.post(f"/portouts/{po.id}/take/", follow=True)
    assert "Claimed by me" in response.content.decode()
    client.force_login(ben)
    page = client.get(f"/portouts/{po.id}/").content.decode()
    assert "Claimed by <strong>rita</strong>" in page and "0\xa0minutes ago" in page
    assert "claimed by rita" in client.get("/").content.decode()
    assert "claimed by rita" in client.get("/portouts/").content.decode()
    # Ben cannot take it while Rita's claim lasts.
    refused = client.post(f"/portouts/{po.id}/take/", follow=True).content.decode()
    assert "rita took this port-out" in refused
    assert PortOutClaim.objects.get().user.username == "rita"


def test_a_claim_expires_and_release_frees_it(reviewer, ben, make_portout, settings):
    settings.CLAIM_MINUTES = 30
    po = make_portout()
    portout_claim_take(po.id, reviewer)
    with pytest.raises(ClaimRefused):
        portout_claim_take(po.id, ben)
    with time_machine.travel(timezone.now() + timedelta(minutes=31)):
        assert portout_claim_take(po.id, ben).user == ben  # expired: Ben may take it
    from portouts.alerts.claims import portout_claim_release

    assert not portout_claim_release(po.id, reviewer)  # not Rita's any more
    assert portout_claim_release(po.id, ben)
    assert not PortOutClaim.objects.exists()


def test_viewers_cannot_take(viewer_client, make_portout):
    po = make_portout()
    assert viewer_client.post(f"/portouts/{po.id}/take/").status_code == 403
    assert "data-take" not in viewer_client.get(f"/portouts/{po.id}/").content.decode()


def test_staff_pages_are_staff_only(reviewer_client, admin_client_user):
    for url in ("/alerts/log/", "/alerts/channels/"):
        assert reviewer_client.get(url).status_code == 403
        assert admin_client_user.get(url).status_code == 200


def test_a_malformed_channel_url_is_refused_with_a_message(admin_client_user):
    cases = [
        (ChannelKind.SLACK, "https://example.com/not-slack", "Slack incoming-webhook URL"),
        (ChannelKind.JSON, "not a url", "http(s)://"),
        (ChannelKind.TEAMS, "https://hooks.slack.com/services/T1/B2/C3", "Teams"),
        (ChannelKind.EMAIL, "porting@, x", "is not an e-mail address"),
    ]
    for kind, target, message in cases:
        response = admin_client_user.post(
            "/alerts/channels/", {"name": f"bad {kind}", "kind": kind, "target": target}
        )
        assert response.status_code == 400
        assert message in response.content.decode()
    assert not AlertChannel.objects.exists()
    ok = admin_client_user.post(
        "/alerts/channels/",
        {
            "name": "#porting",
            "kind": ChannelKind.SLACK,
            "target": "https://hooks.slack.com/services/T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ",
        },
    )
    assert ok.status_code == 302
    page = admin_client_user.get("/alerts/channels/").content.decode()
    assert "TIiajkdnlazkcOXrIdevi7FQ" not in page
    assert "•••" in page


def test_a_rule_without_recipients_cannot_be_saved_in_the_admin(admin_client_user):
    prefix = "routes"
    data = {
        "name": "New port-outs",
        "kind": AlertKind.NEW_PENDING,
        "enabled": "on",
        "thresholds_hours": "[]",
        "business_weekdays": "[]",
        "stale_minutes": "30",
        f"{prefix}-TOTAL_FORMS": "1",
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
        f"{prefix}-0-role": "primary",
        f"{prefix}-0-position": "0",
        f"{prefix}-0-delay_minutes": "0",
    }
    response = admin_client_user.post("/admin/portouts/alertrule/add/", data)
    assert response.status_code == 200
    assert "A rule needs recipients" in response.content.decode()
    assert not AlertRule.objects.exists()


def test_unread_indicator_timeline_and_mark_read(
    reviewer, reviewer_client, make_rule, make_portout, make_channel, django_assert_max_num_queries
):
    rule = make_rule(AlertKind.OVERDUE, users=[reviewer])
    po = make_portout()
    Notification.objects.create(
        rule=rule,
        portout=po,
        user=reviewer,
        kind=rule.kind,
        occasion="overdue",
        title="PO late",
        dedup_key="k1",
        state=NotificationState.SENT,
        created_at=timezone.now(),
    )
    assert "1</span> unread alert" in reviewer_client.get("/").content.decode()
    page = reviewer_client.get(f"/portouts/{po.id}/").content.decode()
    assert "Alerted rita (dashboard), overdue" in page
    reviewer_client.post("/alerts/")
    assert "unread alert" not in reviewer_client.get("/").content.decode()


def test_queue_badges_cost_two_queries_whatever_the_rows(
    reviewer_client, reviewer, make_portout, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    reviewer_client.get("/")  # not counted: the first request keeps the permissions
    counts = []
    for n in (2, 12):
        for _ in range(n - (counts and 2 or 0)):
            portout_claim_take(make_portout().id, reviewer)
        with CaptureQueriesContext(connection) as ctx:
            reviewer_client.get("/")
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]


def test_preferences_mute_a_rule_and_quiet_hours(reviewer, reviewer_client, make_rule):
    rule = make_rule(AlertKind.OVERDUE, users=[reviewer])
    response = reviewer_client.post(
        "/alerts/preferences/",
        {"method": "email", "muted_rules": [rule.pk], "quiet_timezone": "Mars/Olympus"},
    )
    assert response.status_code == 400 and "is not a time zone" in response.content.decode()
    reviewer_client.post(
        "/alerts/preferences/",
        {
            "method": "dashboard",
            "muted_rules": [rule.pk],
            "quiet_timezone": "Europe/Paris",
            "quiet_start": "22:00",
            "quiet_end": "07:00",
        },
    )
    pref = reviewer.alertpreference
    assert pref.method == "dashboard" and list(pref.muted_rules.all()) == [rule]
