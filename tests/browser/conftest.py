"""Browser fixtures: Playwright (sync API) driving the system Chromium against live_server.

Reusable by any browser test:
- `browser_page`: a fresh page (own context, cookies) whose base URL is the live server;
  Telnyx calls from the server go to the in-process sandbox, already synced into the cache.
- `signed_in_page(user)`: signs `user` in through the login form and returns the page.
- `screenshot(page, name)`: saves test-artifacts/screenshots/<name>.png.

Never downloads a browser: without /usr/bin/chromium the tests are skipped, unless
REQUIRE_BROWSER=1, when they fail.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

# Playwright's sync API runs an event loop in this thread; Django's ORM refuses to run
# under a loop unless told it is safe (it is: the loop is Playwright's, not ours).
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
PASSWORD = "correct horse battery staple"  # as in tests/conftest.py


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def _playwright() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        message = f"Browser tests need Chromium at {CHROMIUM}, which is not installed."
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def _chromium(_playwright: Any) -> Iterator[Any]:
    browser = _playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture(autouse=True)
def _roles(restored_roles: None) -> None:
    """Every browser test signs in with a role (`restored_roles` puts the groups back)."""


@pytest.fixture
def browser_settings(settings: Any) -> Any:
    """The live server speaks plain HTTP on loopback."""
    settings.SECURE_SSL_REDIRECT = False
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    return settings


@pytest.fixture
def browser_page(
    _chromium: Any, live_server: Any, browser_settings: Any, synced: Any
) -> Iterator[Any]:
    context = _chromium.new_context(
        base_url=live_server.url, viewport={"width": 1440, "height": 960}, locale="en-US"
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.js_errors = errors
    yield page
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


@pytest.fixture
def signed_in_page(browser_page: Any) -> Callable[[Any], Any]:
    def sign_in(user: Any) -> Any:
        page = browser_page
        page.goto("/accounts/login/")
        page.fill("#id_username", user.get_username())
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_selector("text=Decision queue")
        return page

    return sign_in


@pytest.fixture
def screenshot() -> Callable[[Any, str], Path]:
    def save(page: Any, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return save
