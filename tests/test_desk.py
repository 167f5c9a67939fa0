"""Internal notes and presence on a port-out's page."""

from __future__ import annotations

import re
from html import unescape

import pytest
import respx
from redis.exceptions import ConnectionError as RedisConnectionError

from portouts.models import InternalNote, ReviewAction


@pytest.fixture(autouse=True)
def _fast(fast_passwords):
    pass


def timeline(html: str) -> str:
    """The timeline's region: its latest entries and the older ones behind "Show all"."""
    match = re.search(r'<div id="timeline".*?\n</div>', html, re.S)
    assert match
    return match.group(0)


# -- internal notes ----------------------------------------------------------------------


def test_a_note_is_kept_and_never_sent_to_telnyx(ana, make_portout):
    portout = make_portout()
    with respx.mock(assert_all_mocked=True, assert_all_called=False) as router:
        response = ana.post(f"/portouts/{portout.id}/notes/", {"body": "Called the customer."})
        assert router.calls.call_count == 0  # not one request left the dashboard
    assert response.status_code == 302 and response["Location"].endswith("#timeline")
    note = InternalNote.objects.get()
    assert note.body == "Called the customer." and note.author.username == "ana"
    assert not ReviewAction.objects.exists()  # not a comment: no Telnyx action at all


def test_a_note_shows_in_the_timeline_marked_internal_apart_from_comments(ana, ben, make_portout):
    portout = make_portout()
    ana.post(f"/portouts/{portout.id}/notes/", {"body": "Customer confirms they never asked."})
    html = unescape(ben.get(f"/portouts/{portout.id}/").content.decode())
    entries = timeline(html)
    assert 'class="kind-note" data-kind="note"' in entries
    assert "Internal note" in entries and ">Internal</span>" in entries
    assert "Customer confirms they never asked." in entries and "ana" in entries
    # Two distinct forms: the comment goes to Telnyx, the note to the dashboard only.
    assert f'action="/portouts/{portout.id}/comments/"' in html
    assert f'action="/portouts/{portout.id}/notes/"' in html
    assert "Post comment" in html and "Save internal note" in html
    assert "never sent to Telnyx" in html


def test_a_note_by_htmx_returns_the_form_and_the_timeline(ana, make_portout):
    portout = make_portout()
    response = ana.post(
        f"/portouts/{portout.id}/notes/", {"body": "Second line of checks."}, HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert '<form id="note-form"' in html and "Internal note saved" in html
    assert 'id="timeline"' in html and 'hx-swap-oob="true"' in html
    assert "Second line of checks." in timeline(html)


def test_an_empty_note_is_refused_with_a_message(ana, make_portout):
    portout = make_portout()
    response = ana.post(f"/portouts/{portout.id}/notes/", {"body": "   "}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "This field is required." in response.content.decode() or "Write the note first." in (
        response.content.decode()
    )
    assert not InternalNote.objects.exists()


def test_viewers_read_notes_but_cannot_write_them(ana, viewer_client, make_portout):
    portout = make_portout()
    ana.post(f"/portouts/{portout.id}/notes/", {"body": "Visible to the whole team."})
    html = viewer_client.get(f"/portouts/{portout.id}/").content.decode()
    assert "Visible to the whole team." in timeline(html)
    assert 'id="note-form"' not in html
    with respx.mock(assert_all_mocked=True, assert_all_called=False) as router:
        response = viewer_client.post(f"/portouts/{portout.id}/notes/", {"body": "Sneaky"})
        assert router.calls.call_count == 0
    assert response.status_code == 403
    assert InternalNote.objects.count() == 1


def test_a_new_note_changes_the_pages_version_so_others_see_it(ana, ben, make_portout):
    portout = make_portout()
    page = ben.get(f"/portouts/{portout.id}/")
    poll = poll_headers(page.context["version"])
    assert ben.get(f"/portouts/{portout.id}/", **poll).status_code == 204
    ana.post(f"/portouts/{portout.id}/notes/", {"body": "Fresh note"})
    refreshed = ben.get(f"/portouts/{portout.id}/", **poll)
    assert refreshed.status_code == 200 and "Fresh note" in refreshed.content.decode()


def test_the_page_reads_notes_in_a_fixed_number_of_queries(
    ana, make_portout, django_user_model, django_assert_max_num_queries
):
    portout = make_portout()
    author = django_user_model.objects.get(username="ana")
    InternalNote.objects.bulk_create(
        [InternalNote(portout=portout, author=author, body=f"note {i}") for i in range(30)]
    )
    with django_assert_max_num_queries(DETAIL_QUERIES):
        html = ana.get(f"/portouts/{portout.id}/").content.decode()
    assert timeline(html).count('data-kind="note"') == 30


#: Queries of a port-out's page for a signed-in reviewer, whatever the number of notes: the
#: 26 it makes without notes and the two-person rule (test_timeline's count for a port-out
#: never rejected), plus the notes' and prepared rejections' share of the version token (2),
#: the notes for the timeline (1), the waiting rejection (1).
DETAIL_QUERIES = 35  # and the risk panel's 5 (tests/test_timeline.py)


# -- presence ----------------------------------------------------------------------------


def poll_headers(version: str) -> dict[str, str]:
    return {"HTTP_HX_REQUEST": "true", "HTTP_X_CACHE_VERSION": version}


def test_each_reviewer_sees_who_else_is_viewing(ana, ben, make_portout):
    portout = make_portout()
    first = ana.get(f"/portouts/{portout.id}/")
    assert "is viewing this port-out" not in first.content.decode()  # alone so far
    html = unescape(ben.get(f"/portouts/{portout.id}/").content.decode())
    assert "ana</strong> is viewing this port-out" in html
    # Ana's page refreshes by itself; Ben's arrival changes what it shows.
    refreshed = ana.get(f"/portouts/{portout.id}/", **poll_headers(first.context["version"]))
    assert refreshed.status_code == 200
    assert "ben</strong> is viewing this port-out" in unescape(refreshed.content.decode())
    again = ana.get(f"/portouts/{portout.id}/", **poll_headers(refreshed.context["version"]))
    assert again.status_code == 204  # nothing new: nothing to swap


def test_presence_ends_when_the_page_stops_refreshing(ana, ben, make_portout, settings):
    import time_machine

    portout = make_portout()
    with time_machine.travel("2026-01-05 10:00:00+00:00", tick=False) as clock:
        ben.get(f"/portouts/{portout.id}/")
        assert "ben</strong> is viewing" in ana.get(f"/portouts/{portout.id}/").content.decode()
        clock.shift(settings.PRESENCE_SECONDS + 5)
        assert "is viewing" not in ana.get(f"/portouts/{portout.id}/").content.decode()


def test_opening_the_decision_panel_warns_a_second_reviewer(ana, ben, make_portout):
    portout = make_portout()
    url = f"/portouts/{portout.id}/deciding/"
    ana.get(f"/portouts/{portout.id}/")
    first = ana.post(url, {"open": "1"}, HTTP_HX_REQUEST="true")
    assert first.status_code == 200 and "data-deciding-warning" not in first.content.decode()
    second = unescape(ben.post(url, {"open": "1"}, HTTP_HX_REQUEST="true").content.decode())
    assert "data-deciding-warning" in second
    assert "ana</strong>" in second and "is deciding on this port-out right now" in second
    # Ana sees Ben deciding too (presence), and when Ana closes her panel Ben is alone.
    page = unescape(ana.get(f"/portouts/{portout.id}/").content.decode())
    assert "ben</strong> is deciding on this port-out" in page
    ana.post(url, {"open": "0"}, HTTP_HX_REQUEST="true")
    third = ben.post(url, {"open": "1"}, HTTP_HX_REQUEST="true").content.decode()
    assert "data-deciding-warning" not in third


def test_presence_survives_a_cache_outage(ana, make_portout, monkeypatch):
    from django.core.cache import cache

    portout = make_portout()

    def down(*args, **kwargs):
        raise RedisConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(cache, "get", down)
    monkeypatch.setattr(cache, "get_many", down)
    response = ana.get(f"/portouts/{portout.id}/")
    assert response.status_code == 200 and "is viewing" not in response.content.decode()
