"""Home: counts by status, pending port-outs by urgency, recent activity, polling."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from portouts.models import Comment, PortOutEvent, ReviewAction


@pytest.fixture(autouse=True)
def _fast(fast_passwords):
    pass


def test_queue_orders_by_time_left_then_foc_and_flags_urgency(
    viewer_client, make_portout, settings
):
    settings.REVIEW_WINDOW_HOURS = 24
    settings.REVIEW_DUE_SOON_HOURS = 4
    now = timezone.now()
    fresh = make_portout(id="fresh", created_at=now - timedelta(hours=1))
    soon = make_portout(id="soon", created_at=now - timedelta(hours=22))
    late = make_portout(id="late", created_at=now - timedelta(hours=30))
    same_a = make_portout(
        id="same-b", created_at=now - timedelta(hours=10), foc_date=now + timedelta(days=9)
    )
    same_b = make_portout(
        id="same-a", created_at=now - timedelta(hours=10), foc_date=now + timedelta(days=2)
    )
    make_portout(id="done", status="ported", created_at=now - timedelta(hours=40))

    response = viewer_client.get("/")
    assert response.status_code == 200
    queue = response.context["queue"]
    assert [p.id for p, _d in queue] == [late.id, soon.id, same_b.id, same_a.id, fresh.id]
    deadlines = {p.id: d for p, d in queue}
    assert deadlines["late"].overdue and not deadlines["late"].due_soon
    assert deadlines["soon"].due_soon and not deadlines["soon"].overdue
    assert deadlines["fresh"].urgency == ""
    html = response.content.decode()
    assert "1 overdue" in html and "1 due within 4 h" in html
    assert 'class="row-overdue"' in html and 'class="row-due-soon"' in html
    counts = {status: n for status, _label, n in response.context["status_counts"]}
    assert counts["pending"] == 5 and counts["ported"] == 1


def test_window_is_a_setting(viewer_client, make_portout, settings):
    make_portout(id="p", created_at=timezone.now() - timedelta(hours=30))
    settings.REVIEW_WINDOW_HOURS = 48
    _p, deadline = viewer_client.get("/").context["queue"][0]
    assert not deadline.overdue
    assert timedelta(hours=17) < deadline.left < timedelta(hours=19)


def test_unknown_statuses_are_counted(viewer_client, make_portout):
    make_portout(status="waiting-for-telnyx")
    counts = viewer_client.get("/").context["status_counts"]
    assert ("waiting-for-telnyx", "waiting-for-telnyx", 1) in counts


def test_recent_activity_merges_events_comments_and_actions(viewer_client, make_portout, reviewer):
    po = make_portout(id="po-x", support_key="PO_424242")
    now = timezone.now()
    PortOutEvent.objects.create(
        id="ev1",
        event_type="portout.status_changed",
        portout_id=po.id,
        payload_status="pending",
        created_at=now - timedelta(minutes=30),
        source="api",
    )
    Comment.objects.create(id="c1", portout=po, body="Checking with the customer", created_at=now)
    ReviewAction.objects.create(
        portout=po,
        user=reviewer,
        kind="authorize",
        inputs={"reason": "ok"},
        outcome="failed",
        error="Telnyx is receiving too many requests",
    )
    response = viewer_client.get("/")
    kinds = [i.kind for i in response.context["activity"]]
    assert sorted(kinds) == ["comment", "event", "review"]
    assert kinds[-1] == "event"  # newest first
    html = response.content.decode()
    assert "Checking with the customer" in html and "PO_424242" in html
    assert "Status changed" in html and "rita" in html


def test_queue_polling(viewer_client, make_portout):
    make_portout()
    version = viewer_client.get("/").context["version"]
    headers = {"HX-Request": "true", "X-Cache-Version": version}
    assert viewer_client.get("/", headers=headers).status_code == 204
    make_portout()
    response = viewer_client.get("/", headers=headers)
    assert response.status_code == 200 and 'id="board"' in response.content.decode()
    assert "<html" not in response.content.decode()


def test_queue_says_how_many_more_are_pending_and_links_to_them(viewer_client, settings):
    from portouts.selectors import QUEUE_LIMIT
    from tests.fixtures_dashboard import bulk_portouts

    settings.REVIEW_WINDOW_HOURS = 24
    old = timezone.now() - timedelta(hours=30)
    bulk_portouts(QUEUE_LIMIT + 5, created_at=old)  # all overdue, more than the queue shows
    bulk_portouts(2, status="ported")
    response = viewer_client.get("/")
    html = response.content.decode()
    assert len(response.context["queue"]) == QUEUE_LIMIT
    assert f"Showing the {QUEUE_LIMIT} most urgent of <strong>{QUEUE_LIMIT + 5}</strong>" in html
    assert '<a href="/portouts/?status=pending">See all pending port-outs' in html
    assert f"{QUEUE_LIMIT + 5} overdue" in html  # counted over every pending row


def test_queue_shows_no_note_when_everything_fits(viewer_client, make_portout):
    make_portout()
    assert "See all pending port-outs" not in viewer_client.get("/").content.decode()


def test_queue_deadlines_name_their_zone(viewer_client, make_portout, settings):
    settings.TIME_ZONE = "UTC"
    make_portout(created_at=timezone.now() - timedelta(hours=1))
    html = viewer_client.get("/").content.decode()
    assert re.search(r'title="Due \d{4}-\d\d-\d\d \d\d:\d\d UTC"', html)


def test_queue_poll_headers_are_escaped_json(viewer_client, make_portout):
    make_portout()
    response = viewer_client.get("/")
    version = response.context["version"]
    assert f'hx-headers="{{&quot;X-Cache-Version&quot;: &quot;{version}&quot;}}"' in (
        response.content.decode()
    )
