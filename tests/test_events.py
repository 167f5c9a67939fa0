"""The events page: list, filters, pagination, readable payloads, and republish."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from django.urls import reverse

from portouts import events as event_service
from portouts.models import PortOutEvent, ReviewAction
from portouts.views.events import PER_PAGE

pytestmark = pytest.mark.django_db

T0 = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)


def make_event(n: int, **fields) -> PortOutEvent:
    values = {
        "id": f"ev-{n:04d}",
        "event_type": "portout.status_changed",
        "portout_id": "po-a",
        "payload": {"id": "po-a", "status": "authorized", "phone_numbers": ["+13125550100"]},
        "payload_status": "completed",
        "created_at": T0 + timedelta(hours=n),
        "source": PortOutEvent.Source.API,
    }
    values.update(fields)
    return PortOutEvent.objects.create(**values)


def shown_ids(response) -> list[str]:
    rows = response.content.decode().split('<tr id="event-')[1:]
    return [row.split('"', 1)[0] for row in rows]


def test_events_page_lists_newest_first_with_readable_payloads(viewer_client):
    make_event(1)
    make_event(
        2,
        event_type="portout.new_comment",
        portout_id="po-b",
        payload={
            "id": "c-1",
            "portout_id": "po-b",
            "comment": "Please send the LOA",
            "meta": {"a": [1, 2]},
        },
    )
    response = viewer_client.get(reverse("portouts:events"))
    assert response.status_code == 200
    assert shown_ids(response) == ["ev-0002", "ev-0001"]
    text = response.content.decode()
    # One line per payload, the full JSON behind a disclosure.
    assert "<summary>comment: Please send the LOA</summary>" in text
    assert "<summary>status: authorized</summary>" in text
    assert '<pre class="payload">{\n  &quot;id&quot;: &quot;c-1&quot;,' in text
    assert "&quot;meta&quot;: {\n    &quot;a&quot;: [\n      1,\n      2\n    ]\n  }" in text
    # payload_status is the event's delivery state, never shown as a status.
    assert "delivery completed" in text
    # Every column has a header, the republish column included.
    head = text.split("<thead>", 1)[1].split("</thead>", 1)[0]
    assert "<th></th>" not in head and head.count("<th ") == 5
    # A viewer sees no Republish button.
    assert "Republish</button>" not in text


def test_events_name_portouts_by_support_key_linked_to_their_page(viewer_client, make_portout):
    po = make_portout(id="po-a", support_key="PO_779658")
    make_event(1, portout_id=po.id)
    make_event(2, portout_id="po-not-cached")
    text = viewer_client.get(reverse("portouts:events")).content.decode()
    page = reverse("portouts:detail", args=[po.id])
    assert f'<a class="mono" href="{page}">PO_779658</a>' in text
    assert "?portout=PO_779658" in text
    assert '<code title="Not in the cache">po-not-cached</code>' in text


@pytest.mark.parametrize("typed", ["PO_779658", "po_779658", "po-a"])
def test_events_portout_filter_takes_a_support_key_or_an_id(viewer_client, make_portout, typed):
    make_portout(id="po-a", support_key="PO_779658")
    make_event(1, portout_id="po-a")
    make_event(2, portout_id="po-b")
    response = viewer_client.get(reverse("portouts:events"), {"portout": typed})
    assert shown_ids(response) == ["ev-0001"]
    text = response.content.decode()
    assert 'Events of port-out <span class="mono">PO_779658</span>' in text
    assert f'href="{reverse("portouts:detail", args=["po-a"])}">Open the port-out' in text


def test_events_portout_filter_refuses_what_names_no_portout(viewer_client):
    make_event(1)
    response = viewer_client.get(reverse("portouts:events"), {"portout": "PO 77 <b>"})
    assert response.status_code == 200
    assert "Enter a support key (PO_779658) or a port-out id" in response.content.decode()


def test_events_filter_by_type_dates_and_portout(viewer_client):
    make_event(1, event_type="portout.status_changed", portout_id="po-a")
    make_event(25, event_type="portout.foc_date_changed", portout_id="po-a")
    make_event(49, event_type="portout.status_changed", portout_id="po-b")
    url = reverse("portouts:events")

    assert shown_ids(viewer_client.get(url, {"event_type": "portout.status_changed"})) == [
        "ev-0049",
        "ev-0001",
    ]
    # 2025-03-11 covers the whole (UTC) day: only the event 25 hours after T0.
    days = {"created_from": "2025-03-11", "created_to": "2025-03-11"}
    assert shown_ids(viewer_client.get(url, days)) == ["ev-0025"]
    assert shown_ids(viewer_client.get(url, {"created_from": "2025-03-11"})) == [
        "ev-0049",
        "ev-0025",
    ]
    one = viewer_client.get(url, {"portout": "po-a"})
    assert shown_ids(one) == ["ev-0025", "ev-0001"]
    assert "Show every port-out's events" in one.content.decode()
    combined = viewer_client.get(url, {"portout": "po-a", "event_type": "portout.status_changed"})
    assert shown_ids(combined) == ["ev-0001"]


def test_invalid_filter_is_reported_not_crashing(viewer_client):
    make_event(1)
    response = viewer_client.get(reverse("portouts:events"), {"created_from": "soon"})
    assert response.status_code == 200
    assert "Enter a valid date." in response.content.decode()


def test_events_are_paginated_with_filters_kept(viewer_client, django_assert_max_num_queries):
    for n in range(PER_PAGE + 5):
        make_event(n)
    url = reverse("portouts:events")
    with django_assert_max_num_queries(12):
        first = viewer_client.get(url, {"portout": "po-a"})
    assert len(shown_ids(first)) == PER_PAGE
    assert "portout=po-a&amp;page=2" in first.content.decode()
    second = viewer_client.get(url, {"portout": "po-a", "page": 2})
    assert len(shown_ids(second)) == 5
    assert set(shown_ids(first)).isdisjoint(shown_ids(second))


def test_payload_items_are_readable():
    items = event_service.payload_items(
        {"status": "rejected", "subscriber_name": None, "numbers": ["+1", "+2"], "x": {"y": 1}}
    )
    assert [(i.key, i.value, i.structured) for i in items] == [
        ("status", "rejected", False),
        ("subscriber_name", "—", False),
        ("numbers", "+1, +2", False),
        ("x", '{\n  "y": 1\n}', True),
    ]


# -- republish ------------------------------------------------------------------------------


def test_viewer_may_not_republish(viewer_client, telnyx_mock):
    make_event(1)
    route = telnyx_mock.post("/portouts/events/ev-0001/republish")
    response = viewer_client.post(reverse("portouts:event_republish", args=["ev-0001"]))
    assert response.status_code == 403
    assert not route.called
    assert not ReviewAction.objects.exists()


def test_republish_calls_telnyx_records_the_action_and_keeps_filters(
    reviewer_client, reviewer, telnyx_mock
):
    make_event(1, portout_id="po-a")
    route = telnyx_mock.post("/portouts/events/ev-0001/republish").respond(204)
    back = reverse("portouts:events") + "?portout=po-a"
    response = reviewer_client.post(
        reverse("portouts:event_republish", args=["ev-0001"]), {"next": back}
    )
    assert response.status_code == 302
    assert response["Location"] == back
    assert route.call_count == 1
    action = ReviewAction.objects.get()
    assert action.kind == ReviewAction.Kind.REPUBLISH
    assert action.user == reviewer
    assert action.portout_id == "po-a"
    assert action.inputs == {"event_id": "ev-0001", "event_type": "portout.status_changed"}
    assert action.outcome == ReviewAction.Outcome.SUCCEEDED
    assert action.finished_at is not None
    page = reviewer_client.get(back).content.decode()
    assert "Telnyx will deliver event ev-0001 again" in page
    assert "Republish</button>" in page


def test_republish_refuses_foreign_redirects(reviewer_client, telnyx_mock):
    make_event(1)
    telnyx_mock.post("/portouts/events/ev-0001/republish").respond(204)
    response = reviewer_client.post(
        reverse("portouts:event_republish", args=["ev-0001"]), {"next": "https://evil.test/"}
    )
    assert response["Location"] == reverse("portouts:events")


@pytest.mark.parametrize(
    ("mock", "expected"),
    [
        (
            {"status_code": 404, "json": {"errors": [{"detail": "Event not found"}]}},
            "Telnyx could not find this event (404)",
        ),
        ({"side_effect": httpx.ConnectError("refused")}, "Telnyx did not republish event"),
    ],
)
def test_republish_failure_is_shown_and_recorded(reviewer_client, telnyx_mock, mock, expected):
    make_event(1)
    route = telnyx_mock.post("/portouts/events/ev-0001/republish")
    if "side_effect" in mock:
        route.mock(side_effect=mock["side_effect"])
    else:
        route.respond(mock["status_code"], json=mock["json"])
    response = reviewer_client.post(
        reverse("portouts:event_republish", args=["ev-0001"]), follow=True
    )
    text = response.content.decode()
    assert expected in text
    assert "message-error" in text
    action = ReviewAction.objects.get()
    assert action.outcome == ReviewAction.Outcome.FAILED
    assert expected in action.error
    assert "KEY0123" not in action.error


def test_republish_reaches_the_sandbox_which_delivers_the_event_again(
    synced, reviewer_client, webhook_receiver
):
    """Against the sandbox: the event is sent again to the webhook channel, no new event."""
    from portouts import sync
    from portouts.telnyx import get_client

    sandbox = synced
    portout_id = next(iter(sandbox.state.portouts))
    sandbox.state.add_comment(portout_id, "Please confirm the account number")
    sync.store_events(get_client().list_events(portout_id=portout_id))
    event = PortOutEvent.objects.filter(
        portout_id=portout_id, event_type="portout.new_comment"
    ).first()
    assert event is not None
    events_before = len(sandbox.state.events)

    listed = reviewer_client.get(reverse("portouts:events"), {"portout": portout_id})
    assert event.pk in shown_ids(listed)

    sandbox.webhook_url = webhook_receiver.url
    reviewer_client.post(reverse("portouts:event_republish", args=[event.pk]))
    delivered = webhook_receiver.wait_for(1)
    assert [json.loads(d.body)["data"]["id"] for d in delivered] == [event.pk]
    assert len(sandbox.state.events) == events_before
    assert any(
        method == "POST" and path.endswith(f"/portouts/events/{event.pk}/republish")
        for method, path, _status in sandbox.requests
    )
    action = ReviewAction.objects.get(kind=ReviewAction.Kind.REPUBLISH)
    assert action.outcome == ReviewAction.Outcome.SUCCEEDED


@pytest.mark.django_db
def test_republish_of_an_unknown_event_is_404_and_never_reaches_telnyx(
    reviewer_client, telnyx_mock
):
    route = telnyx_mock.post(url__regex=r".*/portouts/events/.*/republish").respond(204)
    response = reviewer_client.post(
        reverse("portouts:event_republish", args=["00000000-0000-4000-8000-00000000dead"])
    )
    assert response.status_code == 404
    assert not route.called
    assert not ReviewAction.objects.exists()
