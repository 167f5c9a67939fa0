"""Sign-in with throttling of failed attempts.

Failures are counted per (user name, client address) pair, so someone guessing passwords
from one address cannot lock a reviewer out everywhere, plus a higher limit per address
against spraying many user names. Behind a reverse proxy, set TRUSTED_PROXY_COUNT so the
client address is read from X-Forwarded-For instead of being the proxy's.

The counters live in the cache (Redis). When the cache cannot be reached the throttle fails
open: sign-in goes on unthrottled and each failed cache call logs one warning. A cache
outage must not lock the porting team out while port-out deadlines run, and Django's
password hashing still makes each guess slow.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse

from portal.outages import CACHE_ERRORS

logger = logging.getLogger(__name__)


def client_address(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, or the hop TRUSTED_PROXY_COUNT proxies back."""
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies:
        hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        hops = [h for h in hops if h]
        if len(hops) >= proxies:
            return hops[-proxies]
    return str(request.META.get("REMOTE_ADDR", ""))


def _keys(request: HttpRequest, username: str) -> dict[str, int]:
    """Cache keys of the counters that apply to this attempt, with their limits."""
    address = client_address(request)
    pair = hashlib.sha256(f"{username.strip().lower()}|{address}".encode()).hexdigest()[:32]
    return {
        f"login-fail:pair:{pair}": settings.LOGIN_FAILURE_LIMIT,
        f"login-fail:addr:{address}": settings.LOGIN_FAILURE_ADDRESS_LIMIT,
    }


@contextmanager
def _fail_open(action: str) -> Iterator[None]:
    """Skip the rest of a throttle step when the cache is unreachable, with one warning."""
    try:
        yield
    except CACHE_ERRORS as exc:
        logger.warning("Sign-in throttle could not %s, the cache is unreachable: %s", action, exc)


def is_throttled(request: HttpRequest, username: str) -> bool:
    with _fail_open("read its counters"):
        return any(
            (cache.get(key) or 0) >= limit for key, limit in _keys(request, username).items()
        )
    return False


def count_in_window(key: str, window: int) -> int:
    """Add one to a cache counter that expires `window` seconds after its last count; add
    then incr, so counts arriving together all count. Raises the cache's errors."""
    cache.add(key, 0, timeout=window)
    try:
        count = int(cache.incr(key))
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=window)
        count = 1
    # Redis's incr keeps the expiry, the file cache's sets the default one: the window
    # runs from the last count on both.
    cache.touch(key, window)
    return count


def record_failure(request: HttpRequest, username: str) -> None:
    """Count a failed sign-in against each of its counters."""
    window = settings.LOGIN_FAILURE_WINDOW
    with _fail_open("count a failed sign-in"):
        for key in _keys(request, username):
            count_in_window(key, window)


def clear_failures(request: HttpRequest, username: str) -> None:
    pair_key = next(iter(_keys(request, username)))
    with _fail_open("clear its counter"):
        cache.delete(pair_key)


class ThrottledAuthenticationForm(AuthenticationForm):
    """Refuse to check a password once too many recent attempts failed."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "throttled": "Too many failed sign-ins. Wait %(minutes)d minutes and try again.",
    }

    def clean(self) -> dict[str, object]:
        username = str(self.data.get("username", ""))
        request = self.request
        assert request is not None  # LoginView always passes it
        if is_throttled(request, username):
            raise ValidationError(
                self.error_messages["throttled"],
                code="throttled",
                params={"minutes": max(1, settings.LOGIN_FAILURE_WINDOW // 60)},
            )
        try:
            cleaned = super().clean()
        except ValidationError:
            record_failure(request, username)
            raise
        clear_failures(request, username)
        return cleaned


class LoginView(auth_views.LoginView):
    form_class = ThrottledAuthenticationForm
    redirect_authenticated_user = True

    def form_invalid(self, form: AuthenticationForm) -> HttpResponse:
        response = super().form_invalid(form)
        if form.has_error("__all__", "throttled"):
            response.status_code = 429
        return response
