"""Two reviewers signed in at once (two browser contexts): an internal note, presence, the
deciding warning and a rejection under the two-person rule, prepared by Ana and approved by
Ben."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from portouts.models import PendingDecision, PortOut
from portouts.roles import REVIEWER
from tests.browser.conftest import PASSWORD

REASON = "Customer says they never asked for this port."


@pytest.fixture
def reviewers_pages(_chromium: Any, live_server: Any, browser_settings: Any, synced: Any):
    """Ana's and Ben's pages, each in its own browser context (own cookies), signed in."""
    contexts: list[Any] = []

    def open_as(name: str) -> Any:
        person = get_user_model().objects.create_user(username=name, password=PASSWORD)
        person.groups.add(Group.objects.get(name=REVIEWER))
        context = _chromium.new_context(
            base_url=live_server.url, viewport={"width": 1440, "height": 960}, locale="en-US"
        )
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.goto("/accounts/login/")
        page.fill("#id_username", name)
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_selector("text=Decision queue")
        return page

    yield open_as
    for context in contexts:
        context.close()


def _target(sandbox: Any) -> PortOut:
    for po in PortOut.objects.pending().order_by("created_at"):
        if 1001 in sandbox.state.get_portout(po.id).rejection_codes:
            return po
    raise AssertionError("the sandbox has a pending port-out rejectable with 1001")


def test_two_reviewers_note_presence_and_second_reviewer_approval(
    reviewers_pages: Any, synced: Any, settings: Any, screenshot: Any
) -> None:
    settings.TWO_PERSON_RULE = True
    target = _target(synced)
    ana, ben = reviewers_pages("ana"), reviewers_pages("ben")
    url = f"/portouts/{target.id}/"
    ana.goto(url)
    ben.goto(url)

    # Presence: Ana's page refreshes by itself (every 10 s) and then shows Ben.
    ana.wait_for_selector("[data-presence]:has-text('ben is viewing this port-out')")
    screenshot(ana, "two-reviewers-ana-sees-ben")

    # Ana writes an internal note; it is a different form from the Telnyx comment.
    ana.fill("#id_note_body", "Called the end user: they did not ask to port.")
    ana.click("button:has-text('Save internal note')")
    ana.wait_for_selector("#timeline li.kind-note:has-text('Called the end user')")
    # Ben's page brings it in with its own refresh, marked internal.
    note = ben.locator("#timeline li.kind-note")
    note.wait_for()
    assert "Internal" in note.inner_text() and "ana" in note.inner_text()
    screenshot(ben, "two-reviewers-ben-sees-internal-note")

    # Ana opens the reject panel (deciding); Ben opening it too is warned.
    ana.click("#reject-panel summary")
    ana.wait_for_timeout(300)
    ben.click("#reject-panel summary")
    ben.wait_for_selector("[data-deciding-warning]:has-text('ana')")
    screenshot(ben, "two-reviewers-ben-warned")
    ben.click("#reject-panel summary")  # Ben leaves the decision to Ana

    # Ana prepares the rejection: nothing goes to Telnyx yet.
    ana.select_option("#id_rejection_code", "1001")
    ana.fill("#id_reason", REASON)
    ana.click("text=Review rejection")
    ana.click("text=Prepare for a second reviewer")
    ana.wait_for_selector("[data-notice]:has-text('prepared')")
    ana.wait_for_selector("[data-waiting-decision]:has-text('You prepared it')")
    screenshot(ana, "two-reviewers-ana-prepared")
    assert synced.state.get_portout(target.id).status == "pending"

    # Ben's open page brings the waiting rejection in with its refresh...
    ben.wait_for_selector("[data-waiting-decision] button:has-text('Approve and send rejection')")
    screenshot(ben, "two-reviewers-ben-sees-waiting")
    # ...and the queue lists it first; Ben opens it from there and approves it.
    ben.goto("/")
    waiting = ben.locator("[data-waiting-approvals]")
    assert target.support_key in waiting.inner_text() and "ana" in waiting.inner_text()
    screenshot(ben, "two-reviewers-queue-waiting")
    waiting.locator(f"a:has-text('{target.support_key}')").click()
    ben.click("button:has-text('Approve and send rejection')")
    ben.wait_for_selector("[data-notice]:has-text('Rejected')")
    screenshot(ben, "two-reviewers-ben-approved")

    assert synced.state.get_portout(target.id).status == "rejected-pending"
    pending = PendingDecision.objects.get()
    assert pending.state == "sent" and pending.prepared_by.username == "ana"
    assert pending.approved_by is not None and pending.approved_by.username == "ben"
    # Ana's page follows: the status moved, so her decision panel is redrawn too.
    ana.wait_for_selector("#summary .badge:has-text('Rejection pending')")
    screenshot(ana, "two-reviewers-ana-sees-rejection")
