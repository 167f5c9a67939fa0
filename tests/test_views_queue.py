"""Home: counts by status, pending port-outs in sections by time left, recent activity, and
the refresh that sends only what changed."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.utils import timezone

from portouts.models import Comment, PortOut, PortOutEvent, ReviewAction
from portouts.queue import PAST_WINDOW_LIMIT, QUEUE_LIMIT

HTMX = {"HX-Request": "true"}


@pytest.fixture(autouse=True)
def _fast(fast_passwords, settings):
    settings.REVIEW_WINDOW_HOURS = 24
    settings.REVIEW_DUE_SOON_HOURS = 4


def sections(response) -> dict[str, list[str]]:
    return {s.key: [row["id"] for row in s.rows] for s in response.context["sections"]}


def refresh_params(response) -> dict[str, str]:
    import json

    return json.loads(response.context["refresh_vals"])


def refresh(client, params: dict[str, str]):
    return client.get(f"/queue/refresh?{urlencode(params)}", headers=HTMX)


@pytest.fixture
def spread(make_portout):
    now = timezone.now()
    return {
        "fresh": make_portout(id="fresh", created_at=now - timedelta(hours=1)),
        "soon": make_portout(id="soon", created_at=now - timedelta(hours=22)),
        "sooner": make_portout(id="sooner", created_at=now - timedelta(hours=23)),
        "late": make_portout(id="late", created_at=now - timedelta(hours=30)),
        "same-b": make_portout(
            id="same-b", created_at=now - timedelta(hours=10), foc_date=now + timedelta(days=9)
        ),
        "same-a": make_portout(
            id="same-a", created_at=now - timedelta(hours=10), foc_date=now + timedelta(days=2)
        ),
        "done": make_portout(id="done", status="ported", created_at=now - timedelta(hours=40)),
    }


def test_sections_in_order_least_time_left_first(viewer_client, spread):
    response = viewer_client.get("/")
    assert response.status_code == 200
    assert list(sections(response).items()) == [
        ("due_soon", ["sooner", "soon"]),
        ("in_window", ["same-a", "same-b", "fresh"]),
        ("past_window", []),  # folded: read when opened
    ]
    html = response.content.decode()
    # Due soon first, then in window, then the past window folded away.
    assert html.index('id="section-due_soon"') < html.index('id="section-in_window"')
    assert html.index('id="section-in_window"') < html.index('id="section-past_window"')
    past = html[html.index('id="section-past_window"') :]
    opener = re.search(r'<details class="section-rows" data-section-rows ([^>]*)>\s*<summ', past)
    assert opener and 'hx-get="/queue/sections/past_window"' in opener.group(1)
    assert 'hx-trigger="toggle once"' in opener.group(1)
    assert "1 port-out</span>" in past
    # Without JavaScript the folded section links to its rows in the list.
    assert 'href="/portouts/?time_left=past_window">open these 1 port-outs in the list' in past
    opened = viewer_client.get("/queue/sections/past_window", headers=HTMX)
    assert opened.status_code == 200 and "no-store" in opened["Cache-Control"]
    assert re.findall(r'<tr id="q-([^"]+)"', opened.content.decode()) == ["late"]
    counts = {status: n for status, _label, n in response.context["status_counts"]}
    assert counts["pending"] == 6 and counts["ported"] == 1


def test_each_count_links_to_the_list_filtered_the_same_way(viewer_client, spread):
    html = viewer_client.get("/").content.decode()
    for key, n in (("due_soon", 2), ("in_window", 3), ("past_window", 1)):
        link = re.search(rf'<a id="count-{key}"[^>]*href="([^"]+)"[^>]*>(\d+)</a>', html)
        assert link, key
        assert link.group(2) == str(n)
        listed = viewer_client.get(link.group(1).replace("&amp;", "&"))
        assert listed.context["paginator"].count == n, key


def test_urgency_colour_only_for_due_soon(viewer_client, spread):
    html = viewer_client.get("/").content.decode()
    assert 'class="count-link badge urgency-due-soon"' in html
    assert html.count("urgency-due-soon") == 1
    assert 'class="queue-row left-due_soon"' in html
    opened = viewer_client.get("/queue/sections/past_window", headers=HTMX).content.decode()
    assert 'class="queue-row left-past_window"' in opened


def test_window_is_a_setting(viewer_client, make_portout, settings):
    make_portout(id="p", created_at=timezone.now() - timedelta(hours=30))
    settings.REVIEW_WINDOW_HOURS = 48
    assert sections(viewer_client.get("/"))["in_window"] == ["p"]
    settings.REVIEW_DUE_SOON_HOURS = 20
    assert sections(viewer_client.get("/"))["due_soon"] == ["p"]


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


def test_a_section_says_how_many_more_and_links_to_them(viewer_client):
    from tests.fixtures_dashboard import bulk_portouts

    now = timezone.now()
    bulk_portouts(QUEUE_LIMIT + 5, created_at=now - timedelta(hours=10))
    bulk_portouts(PAST_WINDOW_LIMIT + 5, created_at=now - timedelta(hours=30))
    bulk_portouts(2, status="ported")
    response = viewer_client.get("/")
    opened = viewer_client.get("/queue/sections/past_window", headers=HTMX)
    # The folded section past the window, once opened, shows fewer rows than the others.
    for key, limit, html in (
        ("in_window", QUEUE_LIMIT, response.content.decode()),
        ("past_window", PAST_WINDOW_LIMIT, opened.content.decode()),
    ):
        assert len(re.findall(rf'<tr id="q-[^"]+"[^>]*left-{key}', html)) == limit
        assert f"Showing the {limit} most urgent of <strong>{limit + 5}</strong>" in html
        assert f'<a href="/portouts/?time_left={key}">See them all in the list</a>' in html
    page = response.content.decode()
    for key, limit in (("in_window", QUEUE_LIMIT), ("past_window", PAST_WINDOW_LIMIT)):
        assert f'id="count-{key}"' in page and f">{limit + 5}</a>" in page


def test_the_folded_section_is_asked_for_by_htmx_only(viewer_client):
    assert viewer_client.get("/queue/sections/past_window").url == "/"
    assert viewer_client.get("/queue/sections/nope", headers=HTMX).status_code == 404


def test_queue_deadlines_name_their_zone(viewer_client, make_portout, settings):
    settings.TIME_ZONE = "UTC"
    make_portout(created_at=timezone.now() - timedelta(hours=1))
    html = viewer_client.get("/").content.decode()
    assert re.search(r'title="Due \d{4}-\d\d-\d\d \d\d:\d\d UTC"', html)


# -- refresh --------------------------------------------------------------------------------


def test_the_page_varies_on_htmx_and_the_refresh_is_never_stored(viewer_client, spread):
    page = viewer_client.get("/")
    assert "HX-Request" in page["Vary"]
    assert "no-store" not in page.get("Cache-Control", "")  # Back may keep the page itself
    unchanged = refresh(viewer_client, refresh_params(page))
    assert unchanged.status_code == 204
    assert "no-store" in unchanged["Cache-Control"] and "HX-Request" in unchanged["Vary"]
    # A person opening the refresh address gets the page, never a fragment.
    assert viewer_client.get("/queue/refresh").url == "/"


def test_a_refresh_that_sees_one_changed_row_sends_only_that_row(viewer_client, spread):
    params = refresh_params(viewer_client.get("/"))
    PortOut.objects.filter(id="same-b").update(
        end_user_name="Renamed Dental", synced_at=timezone.now() + timedelta(seconds=1)
    )
    response = refresh(viewer_client, params)
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    html = response.content.decode()
    assert re.findall(r'<tr id="(q-[^"]+)"', html) == ["q-same-b"]
    assert "Renamed Dental" in html and "<tbody" not in html and "<html" not in html
    assert 'hx-swap-oob="true"' in html
    # The next refresh asks after this one's tokens: nothing more to send.
    assert refresh(viewer_client, refresh_params(response)).status_code == 204


def test_a_row_leaving_a_section_resends_that_section_only(viewer_client, spread):
    params = refresh_params(viewer_client.get("/"))
    PortOut.objects.filter(id="soon").update(status="authorized", synced_at=timezone.now())
    html = refresh(viewer_client, params).content.decode()
    assert re.findall(r'<tbody id="rows-([a-z_]+)"', html) == ["due_soon"]
    assert 'id="q-sooner"' in html and 'id="q-soon"' not in html
    assert re.search(r'<a id="count-due_soon"[^>]*hx-swap-oob="true">1</a>', html)
    assert 'id="status-counts"' in html  # the counts by status moved too
    assert 'id="q-fresh"' not in html  # in window: untouched


def test_time_moving_a_row_into_due_soon_resends_both_sections(viewer_client, spread):
    params = refresh_params(viewer_client.get("/"))
    PortOut.objects.filter(id="same-a").update(created_at=timezone.now() - timedelta(hours=21))
    html = refresh(viewer_client, params).content.decode()
    assert re.findall(r'<tbody id="rows-([a-z_]+)"', html) == ["due_soon", "in_window"]


@pytest.mark.parametrize("pending", [5, 60])
def test_queue_and_refresh_run_a_fixed_number_of_queries(
    viewer_client, django_assert_num_queries, pending
):
    from tests.fixtures_dashboard import bulk_portouts

    now = timezone.now()
    for hours in (1, 22, 30):
        bulk_portouts(pending, created_at=now - timedelta(hours=hours))
    bulk_portouts(pending, status="ported")
    viewer_client.get("/")  # the session and the counts by status are now cached
    # session, user, version (1), sections (1 + 2 row queries: past the
    # window is folded), the recent activity (0: cached under the version by the first
    # load), sync footer (1: no failed run), alerts (3: the unread count, then the claims
    # and escalations behind every row's badges, read once), and the rejections waiting for
    # a second reviewer (1)
    with django_assert_num_queries(11):
        response = viewer_client.get("/")
    shown = {key: len(rows) for key, rows in sections(response).items()}
    assert shown == {"due_soon": pending, "in_window": pending, "past_window": 0}
    # session, user, version, tokens (the permissions are kept in the cache)
    with django_assert_num_queries(4):
        assert refresh(viewer_client, refresh_params(response)).status_code == 204
    # session, user, tokens, its rows, the claims and escalations (2)
    with django_assert_num_queries(6):
        opened = viewer_client.get("/queue/sections/past_window", headers=HTMX)
    assert opened.content.decode().count('<tr id="q-') == min(pending, 50)


def _row(html: str, portout_id: str) -> str:
    found = re.search(rf'<tr id="q-{portout_id}".*?</tr>', html, re.S)
    assert found, f"no queue row for {portout_id}"
    return found.group(0)


def test_queue_rows_carry_their_claim_on_the_page_and_in_a_refresh(
    viewer_client, spread, reviewer, django_assert_max_num_queries
):
    from portouts.alerts.claims import portout_claim_take

    portout_claim_take("soon", reviewer)
    response = viewer_client.get("/")
    html = response.content.decode()
    assert "claimed by rita" in _row(html, "soon")
    assert "claimed by" not in _row(html, "sooner")
    PortOut.objects.filter(id="soon").update(
        end_user_name="Renamed Dental", synced_at=timezone.now() + timedelta(seconds=1)
    )
    # session, user, permissions (2), version (3), tokens, changed rows; the cache moved, so
    # the counts by status and the activity (4) and the rejections waiting for a second
    # reviewer (1); sync footer (2); claims and escalations (2)
    with django_assert_max_num_queries(18):
        refreshed = refresh(viewer_client, refresh_params(response)).content.decode()
    assert "Renamed Dental" in _row(refreshed, "soon") and "claimed by rita" in refreshed


def test_an_unchanged_row_is_rendered_once_and_a_changed_one_again(viewer_client, spread):
    from portouts.templatetags.portouts_ui import _row_html

    first = viewer_client.get("/").content.decode()
    before = _row_html.cache_info()
    second = viewer_client.get("/").content.decode()
    after = _row_html.cache_info()
    rows = re.findall(r'<tr id="q-.*?</tr>', second, re.S)
    assert len(rows) == 5 and rows == re.findall(r'<tr id="q-.*?</tr>', first, re.S)
    assert (after.hits - before.hits, after.misses - before.misses) == (len(rows), 0)

    PortOut.objects.filter(id="same-b").update(end_user_name="Renamed Dental")
    third = viewer_client.get("/").content.decode()
    assert "Renamed Dental" in _row(third, "same-b")
    assert _row_html.cache_info().misses - after.misses == 1
    # Time moving a row's deadline redraws it: its time left is part of what it shows.
    PortOut.objects.filter(id="fresh").update(created_at=timezone.now() - timedelta(hours=3))
    assert _row(viewer_client.get("/").content.decode(), "fresh") != _row(third, "fresh")


def _waiting_section(html: str) -> str:
    found = re.search(r'<div id="waiting-approvals" hx-swap-oob="true">.*?</div>', html, re.S)
    assert found, "the refresh did not send the rejections waiting for a second reviewer"
    return found.group(0)


def test_a_refresh_brings_and_clears_rejections_waiting_for_a_second_reviewer(
    viewer_client, spread, reviewer, settings
):
    from portouts.models import PendingDecision, RejectionCode
    from portouts.review.approvals import rejection_prepare, rejection_withdraw

    settings.TWO_PERSON_RULE = True
    RejectionCode.objects.create(portout_id="soon", code=1001, description="Not authorized")
    page = viewer_client.get("/")
    assert "data-waiting-approvals" not in page.content.decode()

    rejection_prepare(user=reviewer, portout_id="soon", rejection_code=1001, reason="Fraud.")
    arrived = refresh(viewer_client, refresh_params(page))
    waiting = _waiting_section(arrived.content.decode())
    key = PortOut.objects.get(id="soon").support_key
    assert "data-waiting-approvals" in waiting and f">{key}</a>" in waiting
    assert "reject with code 1001, prepared by <strong>rita</strong>" in waiting

    pending = PendingDecision.objects.get()
    rejection_withdraw(user=reviewer, portout_id="soon", pending_id=pending.pk)
    cleared = refresh(viewer_client, refresh_params(arrived)).content.decode()
    assert "data-waiting-approvals" not in _waiting_section(cleared)


# -- the list's time left -------------------------------------------------------------------


def test_list_filters_and_shows_time_left(viewer_client, spread):
    response = viewer_client.get("/portouts/?time_left=due_soon")
    assert {row["url"].split("/")[2] for row in response.context["rows"]} == {"soon", "sooner"}
    html = response.content.decode()
    assert '<option value="due_soon" selected>Due soon</option>' in html
    assert re.search(r'class="nowrap time-left left-due_soon">1 h \d+ min left</td>', html)
    everything = viewer_client.get("/portouts/?o=created").content.decode()
    assert '<th scope="col">\n          Time left' in everything or ">Time left<" in everything
    assert re.search(r'class="nowrap time-left">—</td>', everything)  # ported: no time left
    assert re.search(
        r'class="nowrap time-left left-past_window">Overdue 6 h \d+ min</td>', everything
    )
    response = viewer_client.get("/portouts/?time_left=nonsense")
    assert "time_left" in response.context["filter_errors"]


# -- the list's and the port-out page's refresh headers -------------------------------------


def test_list_fragments_and_204s_are_never_stored_and_history_restores_get_the_page(
    viewer_client, spread
):
    page = viewer_client.get("/portouts/?status=pending")
    assert "HX-Request" in page["Vary"] and "no-store" not in page.get("Cache-Control", "")
    fragment = viewer_client.get("/portouts/?status=pending", headers=HTMX)
    assert "<html" not in fragment.content.decode()
    assert "no-store" in fragment["Cache-Control"] and "HX-Request" in fragment["Vary"]
    unchanged = viewer_client.get(
        "/portouts/?status=pending",
        headers={**HTMX, "X-Cache-Version": page.context["version"]},
    )
    assert unchanged.status_code == 204 and "no-store" in unchanged["Cache-Control"]
    # htmx restoring a pushed address from history gets the whole page, filters and all.
    restored = viewer_client.get(
        "/portouts/?status=pending", headers={**HTMX, "HX-History-Restore-Request": "true"}
    )
    html = restored.content.decode()
    assert "<html" in html and '<option value="pending" selected>' in html


def test_the_port_out_pages_refresh_is_never_stored(viewer_client, spread):
    page = viewer_client.get("/portouts/soon/")
    assert "HX-Request" in page["Vary"]
    headers = {**HTMX, "X-Cache-Version": page.context["version"], "X-Portout-Status": "pending"}
    unchanged = viewer_client.get("/portouts/soon/", headers=headers)
    assert unchanged.status_code == 204
    assert "no-store" in unchanged["Cache-Control"] and "HX-Request" in unchanged["Vary"]


def test_after_a_decision_the_page_offers_the_next_most_urgent(reviewer_client, spread):
    PortOut.objects.filter(id="sooner").update(status="authorized")
    html = reviewer_client.get("/portouts/sooner/").content.decode()
    assert re.search(r'<a class="button primary" href="/portouts/soon/" data-next-portout>', html)
    pending = reviewer_client.get("/portouts/soon/").content.decode()
    assert "data-next-portout" not in pending
    assert re.search(r'id="authorize-panel" data-panel="authorize"\s+open>', pending)


def test_viewers_get_no_open_decision_panel(viewer_client, spread):
    html = viewer_client.get("/portouts/soon/").content.decode()
    assert 'id="authorize-panel"' not in html and "data-next-portout" not in html
