"""Channel targets at rest and in logs: Fernet-encrypted in the database, masked when
shown, and never written whole to a log line."""

from __future__ import annotations

import base64
import hashlib
import logging
import re

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings

URL_PATTERN = re.compile(r"\b([a-zA-Z][a-zA-Z0-9+.-]{1,15})://[^\s'\"<>]+")
#: a request line as urllib3 logs it ("POST /services/T000/B000/XXXX HTTP/1.1")
REQUEST_LINE = re.compile(r"\b([A-Z]{3,7}) /[^\s\"]* HTTP/")
MASK = "•••"


def _fernet() -> Fernet:
    """The key: ALERTS_ENCRYPTION_KEY when set (a Fernet key, or any text hashed into one),
    else one derived from SECRET_KEY."""
    configured = settings.ALERTS_ENCRYPTION_KEY
    if configured:
        try:
            return Fernet(configured.encode())
        except ValueError:
            seed = configured
    else:
        seed = f"portouts-alerts:{settings.SECRET_KEY}"
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(seed.encode()).digest()))


def secret_encrypt(value: str) -> str:
    return _fernet().encrypt(value.encode()).decode()


def secret_decrypt(token: str) -> str:
    """The stored value, or "" when the key changed (the channel then needs its URL again)."""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except (InvalidToken, ValueError):
        return ""


def mask_target(value: str) -> str:
    """Enough to recognise a channel, too little to use it: the scheme and host of a URL
    and its last four characters; e-mail addresses keep their first letter and domain."""
    value = value.strip()
    if "://" in value:
        scheme, rest = value.split("://", 1)
        host = rest.split("/", 1)[0].rsplit("@", 1)[-1]
        return f"{scheme}://{host}/{MASK}{value[-4:]}"
    masked = []
    for address in filter(None, (a.strip() for a in value.split(","))):
        local, _, domain = address.partition("@")
        masked.append(f"{local[:1]}{MASK}@{domain}")
    return ", ".join(masked)


def mask_urls(text: str) -> str:
    """Replace every URL in a text by its scheme and a mask."""
    text = URL_PATTERN.sub(lambda m: f"{m.group(1)}://{MASK}", text)
    return REQUEST_LINE.sub(lambda m: f"{m.group(1)} /{MASK} HTTP/", text)


class MaskUrlsFilter(logging.Filter):
    """Logging filter (on the loggers of Apprise and of urllib3, which Apprise's requests
    use): the line keeps its words, URLs and request paths are masked."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_urls(message)
        if masked != message or record.args:
            record.msg, record.args = masked, None
        return True
