"""The reviewer's keyboard flow through the queue and the list, across refreshes and Back.

The pages refresh every second here (PAGE_REFRESH_SECONDS), and each test changes the cache
under the page so that a refresh really swaps rows, then checks that the selection, focus and
filters survive it and Back.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from portouts import queue
from portouts.models import PortOut

SELECTED = "document.querySelector('tr.selected') && document.querySelector('tr.selected')"


@pytest.fixture(autouse=True)
def _fast_refresh(browser_settings):
    browser_settings.PAGE_REFRESH_SECONDS = 1


def selected_id(page) -> str | None:
    return page.evaluate(f"{SELECTED}.dataset.id")


def wait_for_text(page, selector: str, text: str) -> None:
    page.wait_for_function(
        "([s, t]) => (document.querySelector(s) || {textContent: ''}).textContent.includes(t)",
        arg=[selector, text],
    )


def touch(portout_id: str, **fields) -> None:
    """What a sync does to a row: new values and a new synced_at."""
    PortOut.objects.filter(id=portout_id).update(synced_at=timezone.now(), **fields)


def queue_ids(page) -> list[str]:
    return page.eval_on_selector_all(
        "[data-section] details:not([open]) tr[data-id], [data-section] > .table-wrap tr[data-id]",
        "rows => rows.map(r => r.dataset.id)",
    )


def test_back_after_a_refresh_gives_the_whole_queue_and_the_same_selection(
    signed_in_page, reviewer, screenshot
):
    page = signed_in_page(reviewer)
    page.set_viewport_size({"width": 1440, "height": 900})
    screenshot(page, "queue-sections")
    page.keyboard.press("j")
    page.keyboard.press("j")
    chosen = selected_id(page)
    assert chosen
    # The selected row itself changes in the cache: the refresh swaps exactly that row.
    touch(chosen, end_user_name="Renamed By Sync")
    wait_for_text(page, f"tr[data-id='{chosen}']", "Renamed By Sync")
    page.wait_for_function(f"{SELECTED}.dataset.id === '{chosen}'", timeout=2000)
    assert page.evaluate("document.activeElement.dataset.id") == chosen  # focus kept
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/portouts/[^/]+/$"))
    page.wait_for_timeout(1500)  # the port-out page refreshes too before we leave it
    page.go_back()
    page.wait_for_selector("#board")
    # The whole page, not a fragment: header, stylesheet, heading, and the same selection.
    assert page.is_visible("header.topbar")
    assert page.evaluate("getComputedStyle(document.querySelector('.topbar')).position") == "sticky"
    assert page.inner_text("h1") == "Decision queue"
    page.wait_for_function(f"{SELECTED}.dataset.id === '{chosen}'")


def test_back_on_the_list_keeps_its_filters_and_selection(signed_in_page, reviewer, screenshot):
    page = signed_in_page(reviewer)
    page.goto("/portouts/")
    page.select_option("#id_status", "pending")
    page.wait_for_function("location.search.includes('status=pending')")
    page.select_option("#id_time_left", "in_window")
    page.wait_for_function("location.search.includes('time_left=in_window')")
    page.wait_for_function(
        "!document.querySelector('#results.htmx-request, #filters.htmx-request')"
    )
    page.set_viewport_size({"width": 1440, "height": 900})
    screenshot(page, "list-time-left")
    page.keyboard.press("j")
    page.keyboard.press("j")
    href = page.evaluate(f"{SELECTED}.dataset.href")
    # Something changes in the cache: the next refresh redraws the results.
    marker = page.evaluate("document.querySelector('#results .poller').getAttribute('hx-headers')")
    other = PortOut.objects.filter(status="ported").first()
    touch(other.id)
    page.wait_for_function(
        "m => document.querySelector('#results .poller').getAttribute('hx-headers') !== m",
        arg=marker,
    )
    # htmx settles the swap (and the page re-selects the row) a moment after the swap.
    page.wait_for_function(f"{SELECTED}.dataset.href === '{href}'", timeout=2000)
    page.keyboard.press("Enter")
    page.wait_for_url(f"**{href}")
    page.go_back()
    page.wait_for_selector("#results table")
    assert page.is_visible("header.topbar")
    assert page.input_value("#id_status") == "pending"
    assert page.input_value("#id_time_left") == "in_window"
    page.wait_for_function(f"{SELECTED}.dataset.href === '{href}'")
    # Back within the list (the filter htmx pushed): the form shows the table's filters.
    page.go_back()
    page.wait_for_function("!location.search.includes('time_left')")
    page.wait_for_selector("#results table")
    assert page.input_value("#id_time_left") == ""
    assert page.input_value("#id_status") == "pending"
    statuses = page.eval_on_selector_all(
        "#results tbody tr[data-href] .badge", "cells => cells.map(c => c.textContent)"
    )
    assert statuses and set(statuses) == {"Pending"}
    page.go_forward()
    page.wait_for_function("location.search.includes('time_left=in_window')")
    page.wait_for_selector("#results table")
    assert page.input_value("#id_time_left") == "in_window"


def test_the_selection_survives_a_refresh_and_enter_opens_the_third_row(signed_in_page, reviewer):
    page = signed_in_page(reviewer)
    for _ in range(3):
        page.keyboard.press("j")
    rows = page.eval_on_selector_all("tr[data-href]", "rows => rows.map(r => r.dataset.id)")
    third = rows[2]
    assert selected_id(page) == third
    # A row of the same section leaves the queue: the refresh redraws that whole section.
    section = page.evaluate(f"{SELECTED}.closest('tbody').id")
    leaving = page.evaluate(
        "s => Array.from(document.querySelectorAll('#' + s + ' tr[data-id]'))"
        ".map(r => r.dataset.id)",
        section,
    )
    gone = next(i for i in leaving if i != third)
    touch(gone, status="canceled")
    page.wait_for_function(f"!document.querySelector(\"tr[data-id='{gone}']\")")
    page.wait_for_function(f"{SELECTED}.dataset.id === '{third}'", timeout=2000)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(re.escape(f"/portouts/{third}/")))


def _top_of_queue(page) -> str:
    return page.evaluate("document.querySelector('[data-section] tr[data-id]').dataset.id")


def test_authorize_the_top_port_out_in_four_keys_then_one_key_to_the_next(
    signed_in_page, reviewer, synced
):
    page = signed_in_page(reviewer)
    top = _top_of_queue(page)
    keys = ["Enter", "a", "Control+Enter", "Enter"]
    page.keyboard.press(keys[0])  # nothing selected: Enter opens the most urgent
    page.wait_for_url(re.compile(re.escape(f"/portouts/{top}/")))
    assert page.is_visible("#authorize-panel[open]")  # open on arrival for a reviewer
    page.keyboard.press(keys[1])
    page.wait_for_function("document.activeElement && document.activeElement.id === 'id_note'")
    page.keyboard.press(keys[2])
    page.wait_for_selector("text=Confirm authorization")
    page.wait_for_function(
        "document.activeElement && document.activeElement.textContent.includes('Confirm')"
    )
    page.keyboard.press(keys[3])
    page.wait_for_selector("[data-notice]:has-text('Authorized')")
    assert len(keys) <= 4
    assert synced.state.get_portout(top).status == "authorized"

    expected = queue.next_pending(exclude=top)
    assert expected is not None
    page.wait_for_selector("a[data-next-portout]")
    page.keyboard.press("n")
    page.wait_for_url(re.compile(re.escape(f"/portouts/{expected['id']}/")))


def test_reject_the_top_port_out_with_a_code_needing_no_reason_in_six_keys(
    signed_in_page, reviewer, synced
):
    page = signed_in_page(reviewer)
    top = _top_of_queue(page)
    pressed = 0

    def press(key: str) -> None:
        nonlocal pressed
        pressed += 1
        page.keyboard.press(key)

    press("Enter")
    page.wait_for_url(re.compile(re.escape(f"/portouts/{top}/")))
    press("r")
    page.wait_for_function("document.activeElement.id === 'id_rejection_code'")
    while True:  # down the list to the first code that needs no reason
        press("ArrowDown")
        chosen = page.evaluate(
            "(() => { const s = document.activeElement;"
            " return s.options[s.selectedIndex].dataset.reasonRequired; })()"
        )
        if chosen == "false":
            break
        assert pressed < 6
    code = int(page.input_value("#id_rejection_code"))
    press("Control+Enter")
    page.wait_for_selector(f"text=with code {code}")
    page.wait_for_function(
        "document.activeElement && document.activeElement.textContent.includes('Confirm')"
    )
    press("Enter")
    page.wait_for_selector("[data-notice]:has-text('Rejected')")
    assert pressed <= 6, pressed
    assert synced.state.get_portout(top).status in {"rejected-pending", "rejected"}


def test_g_then_d_jumps_to_the_first_port_out_due_soon(signed_in_page, reviewer, synced):
    first = queue.section_rows(queue.TimeLeft.DUE_SOON, now=timezone.now())
    if not first:  # the seed may hold none: make one due within the hour
        po = synced.state.create_portout(created_at=timezone.now() - timedelta(hours=23))
        from portouts import sync

        sync.refresh_portout(po.id)
        first = queue.section_rows(queue.TimeLeft.DUE_SOON, now=timezone.now())
    page = signed_in_page(reviewer)
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("g")
    page.keyboard.press("d")
    assert selected_id(page) == first[0]["id"]
    past = queue.section_rows(queue.TimeLeft.PAST_WINDOW, now=timezone.now())
    assert past, "the seed holds port-outs past the window"
    page.keyboard.press("g")
    page.keyboard.press("p")
    # The folded rows are read when the section opens; the jump selects the first of them.
    assert page.is_visible("#section-past_window details[open]")
    page.wait_for_selector(f'#section-past_window tr.selected[data-id="{past[0]["id"]}"]')
