"""The two-person rule: a rejection prepared by one reviewer is sent only once a second,
different reviewer approves it, and not at all if Telnyx changed the port-out meanwhile."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest
import respx
from django.test import Client

from portouts import sync
from portouts.models import PendingDecision, PortOut, ReviewAction
from tests.fixtures_dashboard import signed_in

REASON = "Subscriber says they did not request this port."


@pytest.fixture(autouse=True)
def _two_person_rule(settings, fast_passwords):
    settings.TWO_PERSON_RULE = True


def patches(sandbox) -> list:
    return [r for r in sandbox.requests if r[0] == "PATCH"]


def prepare(client: Client, portout_id: str, code: str = "1001", reason: str = REASON):
    url = f"/portouts/{portout_id}/reject/"
    first = client.post(url, {"rejection_code": code, "reason": reason})
    html = first.content.decode()
    assert "Prepare for a second reviewer" in html and "Confirm rejection" not in html
    key = re.search(r'name="idempotency_key" value="([0-9a-f]{32})"', html)
    assert key
    data = {"rejection_code": code, "reason": reason, "step": "confirm"}
    return client.post(url, {**data, "idempotency_key": key.group(1)})


def approve(client: Client, portout_id: str, pending: PendingDecision):
    return client.post(f"/portouts/{portout_id}/rejections/{pending.pk}/approve/")


def test_preparing_sends_nothing_to_telnyx(ana, synced, pending_portout):
    before = PortOut.objects.get(id=pending_portout)
    with respx.mock(assert_all_mocked=True, assert_all_called=False) as router:
        response = prepare(ana, pending_portout)
        assert router.calls.call_count == 0  # no request at all, not even a re-read
    assert response.status_code == 302
    pending = PendingDecision.objects.get()
    assert pending.state == "waiting" and pending.prepared_by.username == "ana"
    assert (pending.rejection_code, pending.reason) == (1001, REASON)
    assert pending.snapshot == {
        "phone_numbers": sorted(before.phone_numbers),
        "foc_date": before.foc_date.isoformat() if before.foc_date else None,
        "status": "pending",
    }
    action = ReviewAction.objects.get()
    assert (action.kind, action.user.username, action.outcome) == ("prepare", "ana", "succeeded")
    assert synced.state.get_portout(pending_portout).status == "pending"
    page = unescape(ana.get(response["Location"]).content.decode())
    assert "Rejection waiting for a second reviewer" in page
    assert "You prepared it: a second, different reviewer must approve it." in page
    assert "Approve and send rejection" not in page


def test_an_open_page_brings_the_waiting_rejection_in_with_its_refresh(
    ana, ben, synced, pending_portout
):
    page = ben.get(f"/portouts/{pending_portout}/")
    headers = {"HX-Request": "true", "X-Cache-Version": page.context["version"]}
    headers["X-Portout-Status"] = "pending"
    prepare(ana, pending_portout)
    html = unescape(ben.get(f"/portouts/{pending_portout}/", headers=headers).content.decode())
    assert '<div id="waiting-decision" hx-swap-oob="true">' in html
    assert "Approve and send rejection" in html
    assert 'id="decision"' not in html  # Ben's half-filled form, if any, is left alone


def test_approval_by_the_same_reviewer_is_refused(ana, synced, pending_portout):
    prepare(ana, pending_portout)
    pending = PendingDecision.objects.get()
    response = approve(ana, pending_portout, pending)
    assert "a second, different reviewer must approve it. Nothing was sent." in unescape(
        response.content.decode()
    )
    assert patches(synced) == []
    pending.refresh_from_db()
    assert pending.state == "waiting" and pending.approved_by is None
    assert synced.state.get_portout(pending_portout).status == "pending"


def test_a_second_reviewer_sees_it_waiting_and_approving_sends_exactly_one_rejection(
    ana, ben, synced, pending_portout
):
    prepare(ana, pending_portout)
    pending = PendingDecision.objects.get()
    page = unescape(ben.get(f"/portouts/{pending_portout}/").content.decode())
    assert (
        "Rejection waiting for a second reviewer" in page and "Approve and send rejection" in page
    )
    response = approve(ben, pending_portout, pending)
    assert response.status_code == 302
    assert len(patches(synced)) == 1
    remote = synced.state.get_portout(pending_portout)
    assert remote.status == "rejected-pending" and remote.reason == REASON
    assert remote.rejection_code == 1001
    pending.refresh_from_db()
    assert pending.state == "sent" and pending.approved_by.username == "ben"
    # Both people are in the audit trail: who prepared it and who sent it.
    prepared = ReviewAction.objects.get(kind="prepare")
    sent = ReviewAction.objects.get(kind="reject")
    assert prepared.user.username == "ana" and sent.user.username == "ben"
    assert sent.outcome == "succeeded" and pending.sent_action == sent
    assert sent.inputs["prepared_by"] == "ana" and sent.inputs["pending_decision"] == pending.pk
    # Approving again (a double click, or a third reviewer) sends nothing more.
    again = ben.post(f"/portouts/{pending_portout}/rejections/{pending.pk}/approve/")
    assert "no longer waiting" in unescape(again.content.decode())
    assert len(patches(synced)) == 1


def test_a_change_synced_from_telnyx_voids_the_approval(ana, ben, synced, pending_portout):
    prepare(ana, pending_portout)
    synced.state.change_foc_date(pending_portout, datetime.now(UTC) + timedelta(days=11))
    sync.refresh_portout(pending_portout)  # the cache now shows the new FOC date
    pending = PendingDecision.objects.get()
    response = approve(ben, pending_portout, pending)
    html = unescape(response.content.decode())
    assert "changed in Telnyx since the rejection was prepared (FOC date)" in html
    assert "nothing was sent" in html
    assert patches(synced) == []
    assert synced.state.get_portout(pending_portout).status == "pending"
    pending.refresh_from_db()
    assert pending.state == "void" and "FOC date" in pending.closed_reason
    assert not ReviewAction.objects.filter(kind="reject").exists()


def test_a_change_not_yet_synced_is_caught_by_the_decisions_own_re_read(
    ana, ben, synced, pending_portout
):
    prepare(ana, pending_portout)
    synced.state.change_foc_date(pending_portout, datetime.now(UTC) + timedelta(days=12))
    pending = PendingDecision.objects.get()
    response = approve(ben, pending_portout, pending)
    html = unescape(response.content.decode())
    assert "changed in Telnyx since the rejection was prepared (FOC date)" in html
    assert patches(synced) == []  # re-read (GET) only, no change sent
    pending.refresh_from_db()
    assert pending.state == "void"
    refused = ReviewAction.objects.get(kind="reject")
    assert refused.user.username == "ben" and refused.outcome == "failed"


def test_a_port_out_no_longer_pending_voids_the_approval(ana, ben, synced, pending_portout):
    prepare(ana, pending_portout)
    synced.state.change_status(pending_portout, "canceled")
    pending = PendingDecision.objects.get()
    html = unescape(approve(ben, pending_portout, pending).content.decode())
    assert "no longer pending" in html and "The prepared rejection is void." in html
    assert patches(synced) == []
    pending.refresh_from_db()
    assert pending.state == "void"


def test_one_rejection_waits_at_a_time_and_can_be_withdrawn(ana, ben, synced, pending_portout):
    prepare(ana, pending_portout)
    second = prepare(ben, pending_portout, code="1001", reason="Also suspicious")
    assert "already waiting for a second reviewer" in unescape(second.content.decode())
    pending = PendingDecision.objects.get()
    withdrawn = ben.post(f"/portouts/{pending_portout}/rejections/{pending.pk}/withdraw/")
    assert withdrawn.status_code == 302
    pending.refresh_from_db()
    assert pending.state == "withdrawn" and pending.approved_by.username == "ben"
    assert ReviewAction.objects.filter(kind="withdraw", user__username="ben").exists()
    assert patches(synced) == []


def test_viewers_cannot_approve(ana, viewer_client, synced, pending_portout):
    prepare(ana, pending_portout)
    pending = PendingDecision.objects.get()
    assert approve(viewer_client, pending_portout, pending).status_code == 403
    assert patches(synced) == []


def test_the_queue_shows_rejections_waiting_for_a_second_reviewer_first(
    ana, ben, synced, pending_portout, django_assert_max_num_queries
):
    prepare(ana, pending_portout)
    key = PortOut.objects.get(id=pending_portout).support_key
    with django_assert_max_num_queries(QUEUE_QUERIES):
        html = unescape(ben.get("/").content.decode())
    waiting = html.index("Waiting for a second reviewer")
    first_section = html.index('id="section-due_soon"')
    assert waiting < first_section
    section = html[waiting:first_section]
    assert key in section and "prepared by <strong>ana</strong>" in section


#: The queue's queries with a rejection waiting and the sandbox's port-outs: those of
#: tests/test_views_queue.py, plus the waiting rejection's port-out row and its activity.
QUEUE_QUERIES = 24


def test_setting_off_keeps_the_one_step_rejection(settings, ana, synced, pending_portout):
    settings.TWO_PERSON_RULE = False
    url = f"/portouts/{pending_portout}/reject/"
    first = ana.post(url, {"rejection_code": "1001", "reason": REASON})
    html = first.content.decode()
    assert "Confirm rejection" in html and "Prepare for a second reviewer" not in html
    key = re.search(r'name="idempotency_key" value="([0-9a-f]{32})"', html).group(1)
    ana.post(
        url, {"rejection_code": "1001", "reason": REASON, "step": "confirm", "idempotency_key": key}
    )
    assert len(patches(synced)) == 1
    assert synced.state.get_portout(pending_portout).status == "rejected-pending"
    assert not PendingDecision.objects.exists()
    assert list(ReviewAction.objects.values_list("kind", flat=True)) == ["reject"]


def test_two_approvals_at_once_send_one_rejection(
    ana, ben, django_user_model, synced, pending_portout
):
    """Both requests read the decision as waiting before either closed it: the approval
    try's shared idempotency key lets only one of them call Telnyx."""
    prepare(ana, pending_portout)
    pending = PendingDecision.objects.get()
    approve(ben, pending_portout, pending)
    assert len(patches(synced)) == 1
    # The second request, as it saw the decision: still waiting, same try.
    PendingDecision.objects.filter(pk=pending.pk).update(state="waiting", approved_by=None)
    carl = signed_in(django_user_model, "carl")
    url = f"/portouts/{pending_portout}/rejections/{pending.pk}/approve/"
    html = unescape(carl.post(url, HTTP_HX_REQUEST="true").content.decode())
    assert len(patches(synced)) == 1  # the recorded result, no new call
    assert "Rejected PO_" in html  # Carl reads what Ben's approval did
    pending.refresh_from_db()
    assert pending.state == "sent" and pending.approved_by.username == "ben"
    assert ReviewAction.objects.filter(kind="reject").count() == 1


def test_a_change_undone_since_still_voids_the_approval(ana, ben, make_portout):
    """Rejected in Telnyx and back to pending: the snapshot matches again, the events say
    it changed in between."""
    from django.utils import timezone

    from portouts.models import PortOutEvent, RejectionCode

    portout = make_portout()
    RejectionCode.objects.create(portout=portout, code=1001, description="Fraud")
    prepare(ana, portout.id, code="1001", reason="Fraud suspected")
    pending = PendingDecision.objects.get()
    PortOutEvent.objects.create(
        id="ev-round-trip",
        event_type="portout.status_changed",
        portout_id=portout.id,
        payload_status="pending",
        source="webhook",
        created_at=timezone.now(),
    )
    with respx.mock(assert_all_mocked=True, assert_all_called=False) as router:
        html = unescape(approve(ben, portout.id, pending).content.decode())
        assert router.calls.call_count == 0
    assert "changed in Telnyx since the rejection was prepared (status)" in html
    pending.refresh_from_db()
    assert pending.state == "void"
