"""The demo's alerts: setup_demo writes the mail settings and a channel and rules; the mail
catcher (a real aiosmtpd server in its own process) prints and stores what it receives."""

from __future__ import annotations

import os
import smtplib
import subprocess
import sys
import time
from email.message import EmailMessage

import pytest
from django.conf import settings
from django.core.management import call_command

from portouts.alerts.channels import channel_target
from portouts.models import AlertChannel, AlertRule
from tests.fixtures_alerts import free_port


@pytest.mark.django_db
def test_setup_demo_points_mail_at_the_catcher_and_creates_a_rule(settings, tmp_path):
    settings.VAR_DIR, settings.DEBUG = tmp_path, True
    for _ in range(2):  # idempotent
        call_command("setup_demo", port=8105, sandbox_port=8115, smtp_port=8125)
    env = (tmp_path / "demo.env").read_text()
    assert "EMAIL_HOST=127.0.0.1" in env and "EMAIL_PORT=8125" in env
    channel = AlertChannel.objects.get()
    assert channel_target(channel) == "porting@demo.invalid"
    assert AlertRule.objects.count() == 2
    assert all(rule.routes.get().channels.get() == channel for rule in AlertRule.objects.all())


def test_the_mail_catcher_prints_and_stores_mail(tmp_path):
    port = free_port()
    env = {**os.environ, "DEBUG": "1", "VAR_DIR": str(tmp_path)}
    process = subprocess.Popen(
        [sys.executable, "manage.py", "mail_catcher", "--port", str(port)],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                client = smtplib.SMTP("127.0.0.1", port, timeout=2)
                break
            except OSError:
                assert time.monotonic() < deadline and process.poll() is None
                time.sleep(0.2)
        message = EmailMessage()
        message["Subject"], message["From"], message["To"] = "PO_1: 2 h left", "a@x.io", "b@x.io"
        message.set_content("Decide it now.")
        client.send_message(message)
        client.quit()
        stored = list((tmp_path / "mail").glob("*.eml"))
        assert len(stored) == 1 and b"Decide it now." in stored[0].read_bytes()
    finally:
        process.terminate()
        output = process.communicate(timeout=10)[0].decode()
    assert "mail to b@x.io: PO_1: 2 h left" in output and "Decide it now." in output
