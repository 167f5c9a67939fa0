"""Outages of the services the dashboard needs: which errors say one is down.

One list of the errors that mean "cannot reach the database" or "cannot reach the cache"
(Redis), so every part of the dashboard that copes with an outage agrees on what one is,
and one way to name a service in a message without its password.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from django.db import InterfaceError, OperationalError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

DATABASE_ERRORS: tuple[type[Exception], ...] = (OperationalError, InterfaceError)
CACHE_ERRORS: tuple[type[Exception], ...] = (RedisConnectionError, RedisTimeoutError)


def service_down(exc: BaseException | None) -> str | None:
    """ "database" or "cache" when `exc`, or an error it was raised from, is an outage."""
    while exc is not None:
        if isinstance(exc, DATABASE_ERRORS):
            return "database"
        if isinstance(exc, CACHE_ERRORS):
            return "cache"
        exc = exc.__cause__
    return None


def without_password(url: str) -> str:
    """`url` with its password, if any, shown as ***: a REDIS_URL may carry one."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    userinfo, _, hostport = parts.netloc.rpartition("@")
    user = userinfo.split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{hostport}"))
