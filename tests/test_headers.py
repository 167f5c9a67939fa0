"""Security headers: Content-Security-Policy (Django's own) and Permissions-Policy."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

from tests.test_foundation import ROOT, _production_env

EXPECTED_CSP = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "frame-ancestors": ["'none'"],
    "form-action": ["'self'"],
}
REFUSED_FEATURES = ["camera", "microphone", "geolocation", "payment", "usb"]


def _directives(header: str) -> dict[str, list[str]]:
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


def _assert_headers(headers, csp_header: str = "Content-Security-Policy") -> None:
    assert _directives(headers[csp_header]) == EXPECTED_CSP
    features = dict(item.strip().split("=", 1) for item in headers["Permissions-Policy"].split(","))
    assert all(features[name] == "()" for name in REFUSED_FEATURES), features


@pytest.fixture
def enforced_csp(settings):
    """The production policy (settings compute it from DEBUG at import time)."""
    settings.SECURE_CSP = settings.CONTENT_SECURITY_POLICY
    settings.SECURE_CSP_REPORT_ONLY = {}


@pytest.mark.django_db
def test_sign_in_page_and_signed_in_pages_send_both_headers(client, viewer_client, enforced_csp):
    _assert_headers(client.get(reverse("login")))
    for name in ("portouts:queue", "portouts:list", "portouts:events", "portouts:sync_runs"):
        response = viewer_client.get(reverse(name))
        assert response.status_code == 200
        _assert_headers(response)


_HEADERS_OF_SIGN_IN = """
import json
import django
django.setup()
from django.test import Client
response = Client().get("/accounts/login/", secure=True, headers={"host": "portouts.example.com"})
print(json.dumps({"status": response.status_code, "headers": dict(response.headers)}))
"""


def _sign_in_headers(env: dict[str, str]) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", _HEADERS_OF_SIGN_IN],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "portal.settings"},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer["status"] == 200
    return answer["headers"]


def test_production_settings_enforce_the_policy(tmp_path: Path):
    env = _production_env(STATIC_ROOT=str(tmp_path / "static"))
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    headers = _sign_in_headers(env)
    _assert_headers(headers)
    assert "Content-Security-Policy-Report-Only" not in headers


def test_debug_settings_send_the_policy_report_only():
    env = _production_env(DEBUG="1", SECURE_SSL_REDIRECT="0")
    headers = _sign_in_headers(env)
    _assert_headers(headers, "Content-Security-Policy-Report-Only")
    assert "Content-Security-Policy" not in headers


def test_templates_and_static_files_hold_nothing_the_policy_blocks():
    inline_script = re.compile(r"<script(?![^>]*\ssrc=)[^>]*>", re.IGNORECASE)
    handler = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)
    for path in [*(ROOT / "templates").rglob("*.html"), *(ROOT / "static").rglob("*.*")]:
        text = path.read_text()
        assert "style=" not in text, path
        assert "<style" not in text.lower(), path
        assert not inline_script.search(text), path
        if path.suffix == ".html":
            assert not handler.search(text), path
            # hx-trigger filters ("[...]") and hx-on need eval, which the policy forbids.
            assert not re.search(r'hx-trigger="[^"]*\[', text), path
            assert "hx-on" not in text, path
    base = (ROOT / "templates" / "base.html").read_text()
    assert '"includeIndicatorStyles": false' in base


def test_no_template_comment_leaks_into_a_page(viewer_client):
    """Django's {# #} comments are one line only; a longer one would print as text."""
    body = viewer_client.get("/").content.decode()
    assert "{#" not in body and "#}" not in body
