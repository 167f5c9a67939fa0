"""Admin site: every page renders for staff; Telnyx-owned data cannot be added or changed."""

from __future__ import annotations

import logging

import pytest
from django.contrib import admin
from django.urls import reverse
from django.utils import timezone

from portouts import sync, telnyx
from portouts.models import (
    Comment,
    InternalNote,
    PendingDecision,
    PortOut,
    PortOutEvent,
    PortOutNumber,
    RejectionCode,
    Report,
    ReviewAction,
    SupportingDocument,
    SyncRun,
)
from tests.fixtures_client import portout_json

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Users are created per test; the production hasher is slow on purpose."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


TELNYX_OWNED = [PortOut, PortOutNumber, Comment, SupportingDocument, RejectionCode, PortOutEvent]
ALL_MODELS = [*TELNYX_OWNED, ReviewAction, InternalNote, PendingDecision, SyncRun, Report]


@pytest.fixture
def data(admin_user):
    pid = "0ccc7b54-4df3-4bca-a65a-3da1ecc777f0"
    sync.store_portouts([telnyx.PortoutData.from_api(portout_json(id=pid, status="pending"))])
    sync._write_details(
        {
            pid: sync.Details(
                comments=[telnyx.CommentData.from_api({"id": "c1", "body": "LOA please"})],
                documents=[
                    telnyx.SupportingDocumentData.from_api(
                        {"id": "d1", "type": "loa", "document_id": "doc-1"}
                    )
                ],
                rejection_codes=[
                    telnyx.RejectionCodeData.from_api({"code": 1002, "description": "Invalid PIN"})
                ],
            )
        },
        timezone.now(),
    )
    PortOutEvent.objects.create(
        id="ev-1",
        event_type="portout.status_changed",
        portout_id=pid,
        payload={"status": "pending"},
        source="webhook",
        created_at=timezone.now(),
    )
    ReviewAction.objects.create(portout_id=pid, user=admin_user, kind="comment")
    InternalNote.objects.create(portout_id=pid, author=admin_user, body="Team only")
    PendingDecision.objects.create(portout_id=pid, rejection_code=1001, prepared_by=admin_user)
    SyncRun.objects.create(kind="full", status="failed", error="boom")
    Report.objects.create(kind="local", requested_by=admin_user)
    return pid


def test_every_model_is_registered():
    for model in ALL_MODELS:
        assert admin.site.is_registered(model), model


@pytest.mark.parametrize("model", ALL_MODELS, ids=lambda m: m.__name__)
def test_changelist_and_change_page_render_for_staff(admin_client_user, data, model):
    opts = model._meta
    changelist = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    response = admin_client_user.get(changelist)
    assert response.status_code == 200
    assert admin_client_user.get(changelist, {"q": "x"}).status_code == 200
    obj = model.objects.first()
    response = admin_client_user.get(
        reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
    )
    assert response.status_code == 200


@pytest.mark.parametrize("model", [*TELNYX_OWNED, ReviewAction, SyncRun], ids=lambda m: m.__name__)
def test_telnyx_data_and_records_cannot_be_added_changed_or_deleted(admin_client_user, data, model):
    opts = model._meta
    obj = model.objects.first()
    base = f"admin:{opts.app_label}_{opts.model_name}"
    assert admin_client_user.get(reverse(f"{base}_add")).status_code == 403
    before = model.objects.count()
    change = reverse(f"{base}_change", args=[obj.pk])
    assert admin_client_user.post(change, {}).status_code == 403
    assert admin_client_user.post(reverse(f"{base}_delete", args=[obj.pk])).status_code == 403
    assert model.objects.count() == before
    model_admin = admin.site._registry[model]
    assert not model_admin.has_change_permission(None, obj)


def test_portout_page_shows_comments_documents_codes_actions_and_events(admin_client_user, data):
    response = admin_client_user.get(reverse("admin:portouts_portout_change", args=[data]))
    body = response.content.decode()
    for text in ("LOA please", "doc-1", "Invalid PIN", "portout.status_changed", "Comment"):
        assert text in body, text
    assert reverse("admin:portouts_portoutevent_change", args=["ev-1"]) in body


def test_portout_changelist_filters_vanished(admin_client_user, data):
    PortOut.objects.filter(id=data).update(vanished_at=timezone.now())
    url = reverse("admin:portouts_portout_changelist")
    assert data not in admin_client_user.get(url, {"vanished": "no"}).content.decode()
    assert data in admin_client_user.get(url, {"vanished": "yes"}).content.decode()


def test_reports_can_be_deleted_but_not_added(admin_client_user, data):
    assert admin_client_user.get(reverse("admin:portouts_report_add")).status_code == 403
    report = Report.objects.get()
    url = reverse("admin:portouts_report_delete", args=[report.pk])
    assert admin_client_user.post(url, {"post": "yes"}).status_code == 302
    assert not Report.objects.exists()


def test_viewers_do_not_reach_the_admin(viewer_client):
    response = viewer_client.get(reverse("admin:portouts_portout_changelist"))
    assert response.status_code == 403


def test_signed_in_non_staff_get_the_403_page_on_the_admin_site(viewer_client, caplog):
    """No redirect loop between /admin/login/ and the sign-in page: the 403 page, at once."""
    for path in ("/admin/", "/admin/portouts/portout/"):
        with caplog.at_level(logging.WARNING, logger="django.request"):
            caplog.clear()
            response = viewer_client.get(path)
        assert response.status_code == 403, path
        assert "The administration site is for staff" in response.content.decode()
        forbidden = [r for r in caplog.records if r.name == "django.request"]
        assert len(forbidden) == 1  # logged once ...
        assert forbidden[0].exc_info is None and "Traceback" not in caplog.text  # ... plainly
    # Printed once: by the root's handler only (Django's DEBUG console handler is removed).
    assert logging.getLogger("django").handlers == []
    assert logging.getLogger("django.request").handlers == []
    # /admin/login/ sends a signed-in user on to /admin/, which now answers 403: no loop.
    response = viewer_client.get("/admin/login/?next=/admin/", follow=True)
    assert response.status_code == 403
    assert len(response.redirect_chain) <= 2


def test_staff_still_reach_the_admin_site_and_anyone_may_sign_out(admin_client_user, viewer_client):
    assert admin_client_user.get("/admin/").status_code == 200
    assert viewer_client.post("/admin/logout/").status_code in (200, 302)


def test_signed_out_visitors_are_sent_to_sign_in_from_the_admin_site(client):
    response = client.get("/admin/", follow=True)
    assert response.status_code == 200
    assert response.redirect_chain[-1][0].startswith("/accounts/login/")
