"""The end user's answer: a signed single-use link e-mailed through a real SMTP server."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import signing
from django.test import Client
from django.utils import timezone

from portouts.choices import AlertKind, ChannelKind, RiskFlagKind
from portouts.models import (
    ConfirmationRequest,
    Customer,
    Notification,
    PhoneNumber,
    RiskFlag,
)
from portouts.risk import confirmation

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast(fast_passwords):
    pass


@pytest.fixture
def portout(make_portout):
    return make_portout(
        phone_numbers=["+13125550123", "+13125550456"],
        end_user_name="Jane Secret",
        carrier_name="Gaining Wireless",
        created_at=timezone.now() - timedelta(hours=2),
    )


def send(client, portout, email="jane@example.com", hours="2"):
    return client.post(
        f"/portouts/{portout.id}/confirmation/", {"email": email, "answer_within": hours}
    )


def link_in(mailbox) -> str:
    body = mailbox.mails()[-1].get_payload(decode=True).decode()
    return re.search(r"http://testserver(/confirm/[^/\s]+/)", body).group(1)


def flag_kinds(portout) -> set[str]:
    return set(RiskFlag.objects.filter(portout=portout).values_list("kind", flat=True))


def test_answer_no_raises_the_highest_flag_and_lands_in_the_timeline(
    reviewer_client, mailbox, portout
):
    response = send(reviewer_client, portout)
    assert response.status_code == 302
    message = mailbox.mails()[0]
    assert message["To"] == "jane@example.com"
    assert "Gaining Wireless" in message.get_payload(decode=True).decode()
    path = link_in(mailbox)

    public = Client()  # no sign-in
    page = public.get(path)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Did you request this transfer?" in html
    assert "Gaining Wireless" in html and "…0123" in html and "…0456" in html
    assert "+13125550123" not in html and "Jane Secret" not in html and portout.id not in html
    assert "<a " not in html  # nothing else reachable from it
    assert page["Cache-Control"] == "no-store" and page["Referrer-Policy"] == "same-origin"

    answered = public.post(path, {"answer": "no"})
    assert answered.status_code == 200 and 'data-answered="no"' in answered.content.decode()
    request = ConfirmationRequest.objects.get()
    assert request.answer == "no" and request.answered_at
    flag = RiskFlag.objects.get(portout=portout, kind=RiskFlagKind.CONFIRMED_NO)
    assert flag.severity == "critical"

    detail = reviewer_client.get(f"/portouts/{portout.id}/").content.decode()
    assert "End user answered No" in detail
    assert 'data-flag="confirmed_no"' in detail


def test_a_double_submit_sends_one_e_mail(reviewer_client, mailbox, portout):
    form = {"email": "jane@example.com", "answer_within": "2", "idempotency_key": "k" * 32}
    for _ in range(2):
        assert (
            reviewer_client.post(f"/portouts/{portout.id}/confirmation/", form).status_code == 302
        )
    mailbox.wait_for(1)
    assert ConfirmationRequest.objects.count() == 1 and len(mailbox.messages) == 1


def test_answer_yes(reviewer_client, mailbox, portout):
    send(reviewer_client, portout)
    Client().post(link_in(mailbox), {"answer": "yes"})
    assert ConfirmationRequest.objects.get().answer == "yes"
    assert RiskFlagKind.CONFIRMED_YES in flag_kinds(portout)
    assert RiskFlagKind.CONFIRMED_NO not in flag_kinds(portout)


def test_a_link_works_once(reviewer_client, mailbox, portout):
    send(reviewer_client, portout)
    path = link_in(mailbox)
    Client().post(path, {"answer": "yes"})
    again = Client().post(path, {"answer": "no"})
    assert again.status_code == 410
    assert "already used" in again.content.decode()
    assert ConfirmationRequest.objects.get().answer == "yes"
    assert Client().get(path).status_code == 410


def test_an_expired_link_records_nothing(reviewer_client, mailbox, portout):
    send(reviewer_client, portout)
    path = link_in(mailbox)
    with time_machine.travel(timezone.now() + timedelta(hours=23)):
        response = Client().post(path, {"answer": "no"})
    assert response.status_code == 410 and "has expired" in response.content.decode()
    assert ConfirmationRequest.objects.get().answered_at is None
    assert RiskFlagKind.CONFIRMED_NO not in flag_kinds(portout)


def test_tampered_unknown_and_wrong_port_out_links_look_the_same(
    reviewer_client, mailbox, portout, make_portout
):
    send(reviewer_client, portout)
    path = link_in(mailbox)
    token = path.split("/")[2]
    request = ConfirmationRequest.objects.get()
    other = make_portout()
    forged = {
        "tampered": token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb"),
        "unknown": signing.dumps({"t": "no-such-token", "p": portout.id}, salt=confirmation.SALT),
        "wrong port-out": signing.dumps(
            {"t": request.token_id, "p": other.id}, salt=confirmation.SALT
        ),
        "other purpose": signing.dumps({"t": request.token_id, "p": portout.id}),
        "garbage": "x" * 1000,
    }
    bodies = set()
    for name, value in forged.items():
        for method in ("get", "post"):
            response = getattr(Client(), method)(f"/confirm/{value}/", {"answer": "no"})
            assert response.status_code == 404, name
            bodies.add(response.content.decode())
    assert len(bodies) == 1 and "not valid" in bodies.pop()
    assert ConfirmationRequest.objects.get().answered_at is None


def test_the_answer_form_needs_its_csrf_token(reviewer_client, mailbox, portout):
    send(reviewer_client, portout)
    path = link_in(mailbox)
    strict = Client(enforce_csrf_checks=True)
    assert strict.post(path, {"answer": "no"}).status_code == 403
    page = strict.get(path)
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()).group(1)
    assert strict.post(path, {"answer": "no", "csrfmiddlewaretoken": csrf}).status_code == 200


def test_no_choice_shows_the_question_again(reviewer_client, mailbox, portout):
    send(reviewer_client, portout)
    response = Client().post(link_in(mailbox), {"answer": "maybe"})
    assert response.status_code == 400 and "Choose Yes or No." in response.content.decode()
    assert ConfirmationRequest.objects.get().answered_at is None


def test_the_page_is_rate_limited_per_address(settings, reviewer_client, mailbox, portout):
    settings.CONFIRMATION_RATE_LIMIT = 3
    send(reviewer_client, portout)
    path = link_in(mailbox)
    public = Client()
    assert [public.get(path).status_code for _ in range(3)] == [200, 200, 200]
    limited = public.post(path, {"answer": "no"})
    assert limited.status_code == 429 and "Too many attempts" in limited.content.decode()
    assert ConfirmationRequest.objects.get().answered_at is None
    other_address = Client(REMOTE_ADDR="10.0.0.9")
    assert other_address.get(path).status_code == 200


def test_the_rest_of_the_dashboard_still_needs_sign_in(reviewer_client, mailbox, portout):
    send(reviewer_client, portout)
    public = Client()
    public.get(link_in(mailbox))
    assert public.get(f"/portouts/{portout.id}/").status_code == 302
    assert public.get("/").status_code == 302


def test_sending_needs_a_reviewer_a_pending_port_out_and_a_valid_address(
    viewer_client, reviewer_client, mailbox, portout, make_portout
):
    assert send(viewer_client, portout).status_code == 403
    bad = send(reviewer_client, portout, email="not-an-address")
    assert bad.status_code == 400 and "Enter a whole e-mail address" in bad.content.decode()
    ended = make_portout(status="ported")
    refused = send(reviewer_client, ended)
    assert refused.status_code == 302
    assert ConfirmationRequest.objects.count() == 0 and not mailbox.messages
    page = reviewer_client.get(refused["Location"]).content.decode()
    assert "Only a pending port-out can be confirmed" in page


def test_a_refused_e_mail_leaves_no_link(reviewer_client, settings, portout):
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": 9, "timeout": 2},  # nothing listens
        }
    }
    response = send(reviewer_client, portout)
    page = reviewer_client.get(response["Location"]).content.decode()
    assert "did not accept the e-mail" in page
    assert ConfirmationRequest.objects.count() == 0


def test_no_answer_by_the_chosen_time_is_flagged_by_the_beat(reviewer_client, mailbox, portout):
    send(reviewer_client, portout, hours="1")
    assert RiskFlagKind.NO_ANSWER not in flag_kinds(portout)
    assert confirmation.confirmations_due() == 0
    with time_machine.travel(timezone.now() + timedelta(minutes=61)):
        assert confirmation.confirmations_due() == 1
        assert RiskFlagKind.NO_ANSWER in flag_kinds(portout)
        detail = reviewer_client.get(f"/portouts/{portout.id}/").content.decode()
        assert "No answer by" in detail
        assert confirmation.confirmations_due() == 0  # flagged once


def test_the_contact_e_mail_defaults_to_our_customer_record(reviewer_client, portout):
    Customer.objects.create(
        account_number="A-1",
        name="Secret Bakery Ltd",
        contact_email="owner@bakery.example",
        customer_reference="bakery",
    )
    PhoneNumber.objects.create(
        number="+13125550123", customer_reference="bakery", synced_at=timezone.now()
    )
    html = reviewer_client.get(f"/portouts/{portout.id}/").content.decode()
    assert 'id="id_confirm_email" maxlength="254" required value="owner@bakery.example"' in html
    assert "From our customer record of Secret Bakery Ltd." in html
    # still editable: a typed address that fails is shown back as typed, not replaced
    bad = send(reviewer_client, portout, email="typo@")
    assert bad.status_code == 400 and 'value="typo@"' in bad.content.decode()


def test_without_a_customer_record_the_contact_e_mail_is_empty(reviewer_client, portout):
    PhoneNumber.objects.create(number="+13125550123", synced_at=timezone.now())
    html = reviewer_client.get(f"/portouts/{portout.id}/").content.decode()
    assert 'id="id_confirm_email" maxlength="254" required value=""' in html
    assert "data-confirm-email-source" not in html


def test_a_no_alerts_the_team_once_and_a_yes_does_not(
    reviewer_client,
    mailbox,
    portout,
    make_portout,
    make_channel,
    make_rule,
    http_receiver,
    eager_tasks,
    django_capture_on_commit_callbacks,
):
    hook = make_channel(ChannelKind.JSON, http_receiver.url, name="#porting")
    make_rule(AlertKind.END_USER_NO, channels=[hook])
    send(reviewer_client, portout)
    path = link_in(mailbox)
    with django_capture_on_commit_callbacks(execute=True):
        Client().post(path, {"answer": "no"})
        Client().post(path, {"answer": "no"})  # the link works once: no second alert
    http_receiver.wait_for(1)
    (payload,) = http_receiver.payloads()
    assert "the end user answered No" in payload["message"]
    assert Notification.objects.filter(kind=AlertKind.END_USER_NO).count() == 1

    other = make_portout(phone_numbers=["+13125550999"], created_at=timezone.now())
    send(reviewer_client, other, email="joe@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        Client().post(link_in(mailbox), {"answer": "yes"})
    assert Notification.objects.filter(kind=AlertKind.END_USER_NO).count() == 1
