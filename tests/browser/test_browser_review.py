"""End-to-end review scenarios in a real browser against the sandbox-backed live server."""

from __future__ import annotations

import re

from portouts import queue
from portouts.models import PortOut


def _pending_ids(sandbox, count: int) -> list[str]:
    ids = []
    for po in PortOut.objects.pending().order_by("created_at"):
        codes = sandbox.state.get_portout(po.id).rejection_codes
        if 1001 in codes:
            ids.append(po.id)
        if len(ids) == count:
            break
    return ids


def test_filter_open_and_reject_with_code_and_reason(signed_in_page, reviewer, synced, screenshot):
    page = signed_in_page(reviewer)
    screenshot(page, "queue")
    target = PortOut.objects.get(id=_pending_ids(synced, 1)[0])

    page.click("nav.mainnav >> text=Port-outs")
    page.wait_for_selector("#results table")
    page.select_option("#id_status", "pending")
    # htmx swaps the results and pushes the filters into the address.
    page.wait_for_function("location.search.includes('status=pending')")
    page.fill("#id_q", target.support_key)
    page.wait_for_function(f"location.search.includes('q={target.support_key}')")
    page.wait_for_function("document.querySelectorAll('#results tbody tr[data-href]').length === 1")
    screenshot(page, "list-filtered")
    assert "q=" in page.url and "carrier_name=" not in page.url  # empty filters left out

    page.click(f"#results a:has-text('{target.support_key}')")
    page.wait_for_selector("#decision")
    screenshot(page, "detail")

    page.click("#reject-panel summary")
    page.select_option("#id_rejection_code", "1001")
    assert page.is_visible("[data-reason-flag]")  # "required for this code" is called out
    page.fill("#id_reason", "Subscriber says they did not request this port.")
    page.click("text=Review rejection")
    page.wait_for_selector(f"text=Reject {target.support_key} with code 1001")
    screenshot(page, "reject-confirm")
    page.click("text=Confirm rejection")
    page.wait_for_selector("[data-notice]:has-text('Rejected')")
    # The timeline shows the decision at once, from Telnyx's answer.
    timeline = page.locator("#timeline")
    assert "Rejected with code 1001" in timeline.inner_text()
    assert "Subscriber says they did not request this port." in timeline.inner_text()
    assert page.locator("#summary .badge").inner_text() == "Rejection pending"
    screenshot(page, "detail-rejected")
    assert synced.state.get_portout(target.id).status == "rejected-pending"


def test_authorize_with_the_keyboard_only(signed_in_page, reviewer, synced, screenshot):
    page = signed_in_page(reviewer)
    first = queue.next_pending()  # the top of the queue: due soon first, then in window
    assert first is not None

    page.keyboard.press("j")  # the most urgent port-out of the queue
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(re.escape(f"/portouts/{first['id']}/")))
    page.keyboard.press("a")
    page.wait_for_function("document.activeElement && document.activeElement.id === 'id_note'")
    page.keyboard.type("Customer confirmed by phone.")
    page.keyboard.press("Control+Enter")
    page.wait_for_selector("text=Confirm authorization")
    page.wait_for_function(
        "document.activeElement"
        " && document.activeElement.textContent.includes('Confirm authorization')"
    )
    screenshot(page, "authorize-confirm")
    page.keyboard.press("Enter")
    page.wait_for_selector("[data-notice]:has-text('Authorized')")
    assert synced.state.get_portout(first["id"]).status == "authorized"
    assert "Customer confirmed by phone." in page.locator("#timeline").inner_text()


def test_keys_help_and_not_found_page(signed_in_page, viewer, screenshot):
    page = signed_in_page(viewer)
    page.keyboard.press("?")
    page.wait_for_selector("#keys-dialog[open]")
    screenshot(page, "keys")
    page.keyboard.press("Escape")
    response = page.goto("/portouts/no-such-id/")
    assert response.status == 404
    assert page.is_visible("text=Not found")
    screenshot(page, "not-found")
