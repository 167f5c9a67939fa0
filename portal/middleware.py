"""Middleware of the dashboard: the Permissions-Policy header, input no page accepts, a
signed-in user, and a role for the port-out pages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.middleware import LoginRequiredMiddleware
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest, QueryDict
from django.shortcuts import resolve_url
from django_htmx.http import HttpResponseClientRedirect

from portouts.roles import VIEW_PERMISSION


class PermissionsPolicyMiddleware:
    """Permissions-Policy on every response: the features of PERMISSIONS_POLICY_FEATURES are
    refused (`camera=()`, ...), so neither a page nor anything injected into one can use them."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.header = ", ".join(f"{feature}=()" for feature in settings.PERMISSIONS_POLICY_FEATURES)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", self.header)
        return response


NUL_REFUSED = "The request holds a NUL character (%00), which no field of the dashboard accepts."


def _holds_nul(data: QueryDict) -> bool:
    return any("\x00" in key or any("\x00" in v for v in values) for key, values in data.lists())


class RefuseNulBytesMiddleware:
    """A NUL byte in the address is a 404 (no page has one); in a query-string or form value
    (or name), a 400 with a plain sentence.

    PostgreSQL cannot compare text holding NUL (the query fails: a 500), and nothing a
    reviewer types holds one, so every page is covered here, the admin site's included; the
    port-out URLs also refuse any id Telnyx cannot have (`portouts.ids`). Multipart bodies
    (uploads) are left to their forms: reading one here would bypass the upload size limit,
    which the view sets before the body is read.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if "\x00" in request.path:
            raise Http404("No page has a NUL character in its address.")
        form = request.method == "POST" and request.content_type == (
            "application/x-www-form-urlencoded"
        )
        if _holds_nul(request.GET) or (form and _holds_nul(request.POST)):
            return HttpResponseBadRequest(NUL_REFUSED, content_type="text/plain; charset=utf-8")
        return self.get_response(request)


class SignInRequiredMiddleware(LoginRequiredMiddleware):
    """Django's LoginRequiredMiddleware, plus a full-page redirect for htmx requests.

    An htmx request from a page whose session expired would otherwise swap the sign-in
    page into a fragment; HX-Redirect makes the browser go to sign-in and come back to
    the page the user was on.
    """

    def handle_no_permission(  # type: ignore[override]  # HX-Redirect is a 200, not a 302
        self, request: HttpRequest, view_func: Callable[..., Any]
    ) -> HttpResponse:
        if getattr(request, "htmx", False):
            current = request.headers.get("HX-Current-URL") or request.get_full_path()
            parts = urlsplit(current)
            next_path = parts.path + (f"?{parts.query}" if parts.query else "")
            login = redirect_to_login(next_path, resolve_url(self.get_login_url(view_func)))
            return HttpResponseClientRedirect(login["Location"])
        return super().handle_no_permission(request, view_func)


ADMIN_STAFF_ONLY = "The administration site is for staff. Your account can use the dashboard only."


def _refuse_non_staff(request: HttpRequest, url_name: str | None) -> None:
    """A signed-in user who is not staff gets the 403 page on the admin site, instead of
    the admin's redirect to its sign-in page (which is ours, and sends a signed-in user
    back: a redirect loop). Signing out stays open to everyone."""
    user = request.user
    if user.is_authenticated and not (user.is_active and user.is_staff) and url_name != "logout":
        raise PermissionDenied(ADMIN_STAFF_ONLY)


class RoleRequiredMiddleware:
    """Every page of the port-out app needs a role (Viewer or Reviewer), not just a sign-in;
    the admin site needs staff (a signed-in non-staff user gets the 403 page there).

    Views open to everyone (sign-in, /healthz, the signed webhook) are marked with
    login_not_required and pass.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., Any],
        view_args: tuple[Any, ...],
        view_kwargs: dict[str, Any],
    ) -> None:
        if not getattr(view_func, "login_required", True):
            return
        match = request.resolver_match
        if match is not None and match.app_name == "admin":
            _refuse_non_staff(request, match.url_name)
            return
        if match is None or match.app_name != "portouts":
            return
        if request.user.is_authenticated and not request.user.has_perm(VIEW_PERMISSION):
            raise PermissionDenied(
                "Your account has no role in the dashboard yet. Ask an administrator to make "
                "you a Viewer or a Reviewer."
            )
