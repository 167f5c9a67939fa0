"""Two reviewers signed in at once (two browser contexts): Ana takes a port-out, Ben sees
"claimed by ana" on the page and the queue, and Ana's release frees it for him."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Group

from portouts.models import PortOut
from portouts.roles import REVIEWER
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def _sign_in(_chromium: Any, base_url: str, username: str) -> Any:
    context = _chromium.new_context(base_url=base_url, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("text=Decision queue")
    return page


def test_ana_takes_and_ben_sees_claimed_by_ana(
    _chromium, live_server, browser_settings, synced, django_user_model, screenshot
):
    for name in ("ana", "ben"):
        user = django_user_model.objects.create_user(name, password=PASSWORD)
        user.groups.add(Group.objects.get(name=REVIEWER))
    target = PortOut.objects.pending().order_by("created_at").first()
    assert target is not None
    ana = _sign_in(_chromium, live_server.url, "ana")
    ben = _sign_in(_chromium, live_server.url, "ben")
    try:
        ana.goto(f"/portouts/{target.id}/")
        ana.click("[data-take]")
        ana.wait_for_selector("[data-claim-panel] >> text=Claimed by me")

        ben.goto(f"/portouts/{target.id}/")
        panel = ben.locator("[data-claim-panel] [data-claim]")
        assert "Claimed by ana" in panel.inner_text()
        assert ben.locator("[data-take]").count() == 0
        screenshot(ben, "claimed-by-ana")
        ben.goto("/")
        row = ben.locator(f'tr[data-id="{target.id}"]')
        if not row.is_visible():  # past the window: its section is folded
            ben.click("[data-section-rows] > summary")
        assert "claimed by ana" in row.locator("[data-claim]").inner_text()

        ana.click("[data-release]")
        ana.wait_for_selector("text=Nobody has taken this port-out")
        ben.goto(f"/portouts/{target.id}/")
        ben.click("[data-take]")
        ben.wait_for_selector("[data-claim-panel] >> text=Claimed by me")
    finally:
        ana.context.close()
        ben.context.close()
