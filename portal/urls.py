"""Root URLconf: sign-in, health, admin, the port-out app and the error page of outages."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path, reverse_lazy
from django.views.generic import RedirectView

from portal.auth import LoginView
from portal.errors import server_error
from portal.health import healthz

admin.site.site_header = "Port-out review administration"
admin.site.site_title = "Port-out review"

# 503 with Retry-After when the database or the cache is down, else Django's 500 page.
handler500 = server_error

urlpatterns = [
    path("accounts/login/", LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("healthz", healthz, name="healthz"),
    # One sign-in page (throttled) for the dashboard and the admin site.
    path(
        "admin/login/",
        login_not_required(RedirectView.as_view(url=reverse_lazy("login"), query_string=True)),
    ),
    path("admin/", admin.site.urls),
    path("", include("portouts.urls")),
]
