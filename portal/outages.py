"""Outages of the services the dashboard needs: which errors say one is down.

One list of the errors that mean "cannot reach the cache" (Redis), so every part of the
dashboard that copes with an outage agrees on what one is.
"""

from __future__ import annotations

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

CACHE_ERRORS: tuple[type[Exception], ...] = (RedisConnectionError, RedisTimeoutError)
