"""Sign-in with throttling of failed attempts, per username and per client address."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse


def _client_address(request: HttpRequest) -> str:
    return str(request.META.get("REMOTE_ADDR", ""))


def _keys(request: HttpRequest, username: str) -> list[str]:
    digest = hashlib.sha256(username.strip().lower().encode()).hexdigest()[:32]
    return [f"login-fail:user:{digest}", f"login-fail:addr:{_client_address(request)}"]


def is_throttled(request: HttpRequest, username: str) -> bool:
    limit = settings.LOGIN_FAILURE_LIMIT
    return any((cache.get(key) or 0) >= limit for key in _keys(request, username))


def record_failure(request: HttpRequest, username: str) -> None:
    for key in _keys(request, username):
        cache.add(key, 0, timeout=settings.LOGIN_FAILURE_WINDOW)
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=settings.LOGIN_FAILURE_WINDOW)


def clear_failures(request: HttpRequest, username: str) -> None:
    cache.delete_many(_keys(request, username))


class ThrottledAuthenticationForm(AuthenticationForm):
    """Refuse to check a password once too many recent attempts failed."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "throttled": "Too many failed sign-ins. Wait %(minutes)d minutes and try again.",
    }

    def clean(self) -> dict[str, object]:
        username = self.data.get("username", "")
        if is_throttled(self.request, username):  # type: ignore[arg-type]
            raise self.get_throttled_error()
        try:
            cleaned = super().clean()
        except Exception:
            record_failure(self.request, username)  # type: ignore[arg-type]
            raise
        clear_failures(self.request, username)  # type: ignore[arg-type]
        return cleaned

    def get_throttled_error(self) -> Exception:
        from django.core.exceptions import ValidationError

        return ValidationError(
            self.error_messages["throttled"],
            code="throttled",
            params={"minutes": max(1, settings.LOGIN_FAILURE_WINDOW // 60)},
        )


class LoginView(auth_views.LoginView):
    form_class = ThrottledAuthenticationForm
    redirect_authenticated_user = True

    def form_invalid(self, form: AuthenticationForm) -> HttpResponse:
        response = super().form_invalid(form)
        if form.has_error("__all__", "throttled"):
            response.status_code = 429
        return response
