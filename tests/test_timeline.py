"""The timeline in words: status steps, one entry per comment with its author, readable
action labels, and the same words in the queue's recent activity."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from portouts import selectors, timeline
from portouts.models import Comment, PortOutEvent, RejectionCode, ReviewAction


@pytest.fixture(autouse=True)
def _fast(fast_passwords):
    pass


T0 = timezone.now() - timedelta(days=1)


def status_event(portout, n: int, status: str | None, **payload) -> PortOutEvent:
    body = {"id": portout.id, "attempted_pin": "9591", **payload}
    if status is not None:
        body["status"] = status
    return PortOutEvent.objects.create(
        id=f"ev-{portout.id}-{n}",
        event_type="portout.status_changed",
        portout_id=portout.id,
        payload=body,
        # The delivery state of the event: never to be read as the port-out's status.
        payload_status="completed",
        created_at=T0 + timedelta(hours=n),
        source="api",
    )


def action(portout, user, kind: str, at_hours: float, outcome="succeeded", **fields):
    a = ReviewAction.objects.create(
        portout=portout, user=user, kind=kind, outcome=outcome, **fields
    )
    ReviewAction.objects.filter(pk=a.pk).update(created_at=T0 + timedelta(hours=at_hours))
    return a


def titles(portout) -> list[str]:
    return [e.title for e in timeline.portout_history(portout=portout).entries]


def test_status_entries_say_from_and_to_with_code_and_reason(make_portout, reviewer):
    po = make_portout(status="rejected-pending", rejection_code=1002)
    RejectionCode.objects.create(portout=po, code=1002, description="Invalid PIN")
    status_event(po, 0, "pending")
    status_event(po, 1, "rejected-pending", rejection_reason="PIN does not match")
    status_event(po, 2, "pending")  # Porting Ops found the reason invalid
    action(po, reviewer, "reject", 3, inputs={"rejection_code": 1002, "reason": "Wrong PIN"})
    status_event(po, 4, "rejected-pending", rejection_reason="Wrong PIN")
    assert titles(po) == [
        "Status: pending → rejected-pending (code 1002, Invalid PIN: reason Wrong PIN)",
        "Rejected with code 1002",
        "Status: rejected-pending → pending",
        "Status: pending → rejected-pending (code 1002, Invalid PIN: reason PIN does not match)",
        "Status: pending (request received)",
    ]


def test_a_first_event_that_is_not_the_opening_comes_from_pending(make_portout):
    po = make_portout(status="authorized")
    status_event(po, 1, "authorized")
    status_event(po, 2, None)  # no status in the payload: said so, the sequence unchanged
    status_event(po, 3, "ported")
    assert titles(po) == [
        "Status: authorized → ported",
        "Status changed (Telnyx did not say to what)",
        "Status: pending → authorized",
    ]


def test_payload_status_is_never_shown_as_the_portouts_status(make_portout, viewer_client):
    po = make_portout(status="pending")
    PortOutEvent.objects.create(
        id="ev-x",
        event_type="portout.status_changed",
        portout_id=po.id,
        payload={"id": po.id},
        payload_status="completed",
        created_at=T0,
        source="api",
    )
    html = viewer_client.get(f"/portouts/{po.id}/").content.decode()
    assert "completed" not in html.lower()
    assert "Status changed (Telnyx did not say to what)" in html


def test_one_comment_makes_one_entry_with_its_reviewer(make_portout, reviewer):
    po = make_portout()
    posted = {"id": "c-1", "body": "Checking with the owner", "user_id": "acct-user"}
    action(po, reviewer, "comment", 1, inputs={"body": posted["body"]}, response=posted)
    Comment.objects.create(
        id="c-1", portout=po, body=posted["body"], user_id="acct-user", created_at=T0
    )
    PortOutEvent.objects.create(
        id="ev-c",
        event_type="portout.new_comment",
        portout_id=po.id,
        payload={"id": "c-1", "portout_id": po.id, "user_id": "acct-user", "comment": ""},
        created_at=T0,
        source="webhook",
    )
    entries = timeline.portout_history(portout=po).entries
    assert [(e.kind, e.title, e.actor, e.body) for e in entries] == [
        ("comment", "Comment", reviewer.get_username(), "Checking with the owner")
    ]


def test_comment_authors_telnyx_staff_our_team_and_the_gaining_carrier(make_portout):
    po = make_portout(user_id="acct-user")
    Comment.objects.create(id="c-staff", portout=po, body="Porting Ops here", created_at=T0)
    Comment.objects.create(
        id="c-team", portout=po, body="From the Portal", user_id="acct-user", created_at=T0
    )
    Comment.objects.create(
        id="c-carrier", portout=po, body="New LOA attached", user_id="u-9", created_at=T0
    )
    # A comment the cache has not read yet is told by its event, once.
    PortOutEvent.objects.create(
        id="ev-new",
        event_type="portout.new_comment",
        portout_id=po.id,
        payload={"id": "c-new", "portout_id": po.id, "user_id": "u-9", "comment": "Carrier asks"},
        created_at=T0 + timedelta(hours=1),
        source="webhook",
    )
    expected = {
        ("Porting Ops here", "Telnyx staff"),
        ("From the Portal", "Our team in Telnyx"),
        ("New LOA attached", "Gaining carrier"),
        ("Carrier asks", "Gaining carrier"),
    }
    entries = timeline.portout_history(portout=po).entries
    assert {(e.body, e.actor) for e in entries} == expected
    recent = timeline.recent_activity(version=selectors.cache_version())
    assert {(e.body, e.actor) for e in recent if e.kind == "comment"} == expected


def test_actions_read_as_what_was_done(make_portout, reviewer):
    po = make_portout()
    action(po, reviewer, "authorize", 1, inputs={"reason": "ok", "host_messaging": True})
    action(
        po,
        reviewer,
        "upload",
        2,
        inputs={"document_type": "loa", "filename": "loa.pdf"},
    )
    action(
        po,
        reviewer,
        "reject",
        3,
        outcome="failed",
        inputs={"rejection_code": 1002, "reason": ""},
        error="Telnyx is receiving too many requests (429).",
    )
    entries = timeline.portout_history(portout=po).entries
    assert [(e.title, e.outcome_label) for e in entries] == [
        ("Reject with code 1002", "Failed"),
        ("Uploaded LOA loa.pdf", ""),
        ("Authorized", ""),
    ]
    assert entries[0].body == "Telnyx is receiving too many requests (429)."
    assert entries[2].note == "Host messaging kept on Telnyx"


def test_the_pin_comes_from_the_latest_status_event(make_portout):
    po = make_portout()
    assert timeline.portout_history(portout=po).attempted_pin == ""
    status_event(po, 0, "pending", attempted_pin="1111")
    status_event(po, 1, "rejected-pending", attempted_pin=None)
    assert timeline.portout_history(portout=po).attempted_pin == ""
    status_event(po, 2, "pending", attempted_pin="9591")
    assert timeline.portout_history(portout=po).attempted_pin == "9591"


def test_pin_result_on_the_page(make_portout, viewer_client):
    po = make_portout()
    assert "No PIN given" in viewer_client.get(f"/portouts/{po.id}/").content.decode()
    status_event(po, 0, "pending")
    html = viewer_client.get(f"/portouts/{po.id}/").content.decode()
    assert 'PIN given: <strong class="mono">9591</strong>' in html


def test_recent_activity_uses_the_same_words(make_portout, reviewer, viewer_client):
    po = make_portout(status="rejected-pending", rejection_code=1002, support_key="PO_779658")
    RejectionCode.objects.create(portout=po, code=1002, description="Invalid PIN")
    for n in range(20):  # older events: outside the activity, still giving the first step
        status_event(po, n - 40, "pending")
    status_event(po, 1, "rejected-pending", rejection_reason="No such PIN")
    posted = {"id": "c-1", "body": "Asked the owner", "user_id": "acct"}
    action(po, reviewer, "comment", 2, inputs={"body": "Asked the owner"}, response=posted)
    Comment.objects.create(
        id="c-1",
        portout=po,
        body="Asked the owner",
        user_id="acct",
        created_at=T0 + timedelta(hours=2),
    )
    activity = viewer_client.get("/").context["activity"]
    mine = [e for e in activity if e.portout_id == po.id]
    assert mine[0].title == "Comment" and mine[0].actor == reviewer.get_username()
    assert sum(e.body == "Asked the owner" for e in activity) == 1
    assert "Status: pending → rejected-pending (code 1002, Invalid PIN: reason No such PIN)" in [
        e.title for e in mine
    ]
    assert all(e.portout_label == "PO_779658" for e in mine)


def test_many_entries_wait_behind_show_all(make_portout, viewer_client):
    po = make_portout()
    for n in range(12):
        status_event(po, n, "pending")
    html = viewer_client.get(f"/portouts/{po.id}/").content.decode()
    assert "Show all 12 entries" in html
    first, rest = html.split('<details class="timeline-more">', 1)
    assert first.count('data-kind="event"') == 5
    assert rest.count('data-kind="event"') == 7


def _history(portout, user, n: int) -> None:
    for i in range(n):
        status_event(portout, i, "pending" if i % 2 else "rejected-pending")
        Comment.objects.create(id=f"c-{portout.id}-{i}", portout=portout, body=f"note {i}")
        action(portout, user, "comment", i, inputs={"body": "x"}, response={"id": f"c-{i}"})
        action(portout, user, "upload", i, inputs={"document_type": "loa", "filename": "a.pdf"})


def test_the_portout_page_reads_a_fixed_number_of_queries(
    make_portout, reviewer, reviewer_client, django_assert_max_num_queries
):
    """Whatever the length of its history: 31 queries with one entry of each kind and with
    40 of each: 4 the session and permissions, 1 the port-out, 7 the page's freshness token
    (2 of them the internal notes' and prepared rejections'), 2 the sync footer, 5 the
    timeline (events, comments, actions, the codes' names, internal notes), 1 the codes of
    the decision panel, 1 the documents, 1 the rejection waiting for a second reviewer, 4
    for alerts (the unread count, the timeline's alerts, the claim, the escalations) and 5
    the verification panel."""
    small, large = make_portout(), make_portout()
    _history(small, reviewer, 1)
    _history(large, reviewer, 40)
    for po in (small, large):
        # 31 (above), and the risk panel (assessment, flags, confirmation, outcome) with the
        # confirmation entries of the timeline (5, portouts.risk.selectors)
        with django_assert_max_num_queries(31 + 5):
            response = reviewer_client.get(f"/portouts/{po.id}/")
        assert response.status_code == 200
