"""Risk flags in a real browser: above the fold, and the end user's "No" appearing on the
reviewer's page without a reload."""

from __future__ import annotations

import re

from portouts import sync

FOLD = 900


def test_flags_above_the_fold_and_a_no_answer_appears_live(
    signed_in_page, reviewer, synced, mailbox, screenshot, _chromium, live_server
):
    numbers = [f"+1312555{i:04d}" for i in range(12)]
    flagged = synced.state.create_portout(phone_numbers=numbers, spid="404N")
    sync.refresh_portout(flagged.id)

    page = signed_in_page(reviewer)
    page.set_viewport_size({"width": 1440, "height": FOLD})
    page.goto(f"/portouts/{flagged.id}/")
    flags = page.locator("#risk-flags")
    assert page.locator('[data-flag="many_numbers"]').is_visible()
    # (the sandbox's random carrier may be new too: "SPID 404N and gaining carrier … never seen")
    new_carrier = page.locator('[data-flag="new_carrier"]').inner_text()
    assert "SPID 404N" in new_carrier and "never seen on this account before" in new_carrier
    box = flags.bounding_box()
    assert box is not None and box["y"] + box["height"] <= FOLD, box
    screenshot(page, "risk-flags")

    page.fill("#id_confirm_email", "owner@example.com")
    page.click("text=Send confirmation request")
    page.wait_for_selector("text=Confirmation request sent to o***@example.com")
    body = mailbox.mails()[-1].get_payload(decode=True).decode()
    link = re.search(r"(http://\S+/confirm/\S+/)", body).group(1)
    assert link.startswith(live_server.url)

    page.evaluate("window.__notReloaded = true")
    end_user = _chromium.new_context(viewport={"width": 800, "height": 700})
    try:
        answer_page = end_user.new_page()
        answer_page.goto(link)
        assert "Did you request this transfer?" in answer_page.inner_text("main")
        assert answer_page.locator("a").count() == 0
        screenshot(answer_page, "risk-confirmation-question")
        answer_page.click("text=No, I did not")
        answer_page.wait_for_selector("text=Thank you")
        screenshot(answer_page, "risk-confirmation-answered")
    finally:
        end_user.close()

    # The page's polling (every 10 s) brings the flag in, out of band.
    page.wait_for_selector('[data-flag="confirmed_no"]', timeout=25_000)
    assert page.evaluate("window.__notReloaded") is True
    assert "End user answered No" in page.locator("#timeline").inner_text()
    screenshot(page, "risk-confirmed-no")
