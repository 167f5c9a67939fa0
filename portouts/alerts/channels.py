"""Channels: checking a target when it is saved, and sending one message.

E-mail goes through Django's e-mail backend (send_mail over SMTP), not Apprise's mailto://:
the SMTP server, its credentials and TLS are set once in the environment (EMAIL_*), the
demo and the tests point them at a local catcher, and a channel holds addresses only, no
SMTP password. Slack, Teams (Workflows) and JSON webhooks go through Apprise, by URL.
"""

from __future__ import annotations

import logging
import os
import smtplib
from urllib.parse import urlencode

import apprise
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email

from portouts.alerts.secrets import (
    MaskUrlsFilter,
    mask_target,
    mask_urls,
    secret_decrypt,
    secret_encrypt,
)
from portouts.choices import ChannelKind
from portouts.models import AlertChannel

logger = logging.getLogger("portouts.alerts")

# Also set in LOGGING; repeated here so no configuration can leave these loggers unmasked.
for _name in ("apprise", "urllib3", "urllib3.connectionpool"):
    _logger = logging.getLogger(_name)
    if not any(isinstance(f, MaskUrlsFilter) for f in _logger.filters):
        _logger.addFilter(MaskUrlsFilter())

#: the Apprise plugin each webhook kind must parse to
_PLUGINS = {
    ChannelKind.SLACK: ("NotifySlack", "a Slack incoming-webhook URL (https://hooks.slack.com/…)"),
    ChannelKind.TEAMS: (
        "NotifyWorkflows",
        "a Teams Workflows webhook URL (https://…logic.azure.com/… or workflows://…)",
    ),
    ChannelKind.JSON: ("NotifyJSON", "an http(s):// or json(s):// URL"),
}


class DeliveryFailed(Exception):
    """A channel refused or did not answer; the message says why, with no secret in it."""


def channel_target_check(kind: str, target: str) -> str:
    """The target to store, normalised, or a ValidationError a person understands."""
    target = target.strip()
    if not target:
        raise ValidationError("Give the channel's address.")
    if kind == ChannelKind.EMAIL:
        addresses = [a.strip() for a in target.split(",") if a.strip()]
        for address in addresses:
            try:
                validate_email(address)
            except ValidationError:
                raise ValidationError(f"{address!r} is not an e-mail address.") from None
        return ", ".join(addresses)
    if kind == ChannelKind.JSON and target.startswith(("http://", "https://")):
        target = "json" + target[4:]
    plugin, expected = _PLUGINS[ChannelKind(kind)]
    parsed = apprise.Apprise.instantiate(target, suppress_exceptions=True)
    if parsed is None or type(parsed).__name__ != plugin:
        raise ValidationError(f"This is not {expected}; check the URL you copied.")
    return target


def channel_save(channel: AlertChannel, target: str | None) -> AlertChannel:
    """Store a channel, its target encrypted (`None`: keep the stored one)."""
    if channel.target_env:
        channel_target_check(channel.kind, os.environ.get(channel.target_env, ""))
        channel.target_encrypted = ""
        channel.target_masked = f"from ${channel.target_env}"
    elif target is not None:
        clean = channel_target_check(channel.kind, target)
        channel.target_encrypted = secret_encrypt(clean)
        channel.target_masked = mask_target(clean)
    channel.save()
    return channel


def channel_target(channel: AlertChannel) -> str:
    if channel.target_env:
        return os.environ.get(channel.target_env, "")
    return secret_decrypt(channel.target_encrypted)


def email_send(addresses: list[str], title: str, body: str) -> None:
    """One e-mail through Django's backend; failures become DeliveryFailed."""
    try:
        send_mail(title, body, settings.DEFAULT_FROM_EMAIL, addresses, fail_silently=False)
    except smtplib.SMTPResponseException as exc:
        raise DeliveryFailed(
            f"The mail server refused the message ({exc.smtp_code} {_text(exc.smtp_error)})."
        ) from None
    except smtplib.SMTPRecipientsRefused as exc:
        codes = ", ".join(f"{code} {_text(err)}" for code, err in exc.recipients.values())
        raise DeliveryFailed(f"The mail server refused the recipients ({codes}).") from None
    except TimeoutError:
        raise DeliveryFailed("The mail server did not answer in time.") from None
    except (OSError, smtplib.SMTPException) as exc:
        raise DeliveryFailed(
            f"The mail server could not be reached ({type(exc).__name__})."
        ) from None


def _text(value: bytes | str) -> str:
    return (value.decode(errors="replace") if isinstance(value, bytes) else value)[:200]


def _with_timeouts(url: str) -> str:
    """Apprise's connect and read timeouts (cto, rto) from ALERTS_SEND_TIMEOUT, and no
    retries of its own: ours are counted on the notification."""
    sep = "&" if "?" in url else "?"
    timeout = settings.ALERTS_SEND_TIMEOUT
    extra = {"cto": timeout, "rto": timeout, "retry": 0}
    present = {k for k in extra if f"{k}=" in url}
    rest = {k: v for k, v in extra.items() if k not in present}
    return f"{url}{sep}{urlencode(rest)}" if rest else url


def webhook_send(url: str, title: str, body: str) -> None:
    """One message through Apprise; its warnings (URLs masked) become the failure reason."""
    notifier = apprise.Apprise()
    if not notifier.add(_with_timeouts(url)):
        raise DeliveryFailed("The channel's URL is no longer valid; save it again.")
    # Debug level for the exception's own words ("Read timed out"); URLs are masked by
    # the filter on Apprise's logger before any handler, this one included, sees a line.
    with apprise.LogCapture(level=logging.DEBUG, fmt="%(levelname)s %(message)s") as output:
        delivered = notifier.notify(title=title, body=body)
    if not delivered:
        raise DeliveryFailed(_reason(output.getvalue()))


def _reason(log: str) -> str:
    """Apprise's warnings and socket exceptions, the payload lines left out."""
    lines = [
        line.split(" ", 1)[1]
        for line in log.splitlines()
        if line.startswith("WARNING ") or "Socket Exception" in line
    ]
    return mask_urls(" ".join(lines))[:500] or "The channel refused the message."


def channel_send(channel: AlertChannel, title: str, body: str) -> None:
    target = channel_target(channel)
    if not target:
        raise DeliveryFailed("The channel has no address (its key or variable changed).")
    if channel.kind == ChannelKind.EMAIL:
        email_send([a.strip() for a in target.split(",")], title, body)
    else:
        webhook_send(target, title, body)
