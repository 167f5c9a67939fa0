"""The evidence of a port-out: the name/address comparison, the PIN rule, and the
verification panel (content, and a fixed number of queries)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from portouts.choices import PinResult
from portouts.evidence.compare import MATCH_THRESHOLD, compare, normalise
from portouts.evidence.pin import pin_check
from portouts.evidence.selectors import portout_evidence
from portouts.models import Customer, CustomerNumber, PhoneNumber, PortOutEvent

# -- the comparison -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("theirs", "ours"),
    [
        ("Acme Inc.", "ACME, Inc"),
        ("Acme Incorporated", "Acme Inc"),
        ("Smith, John", "John Smith"),
        ("Jon Smith", "John Smith"),  # one letter off
        ("123 Main Street", "123 main st."),
        ("2 Elm Ave, Suite 4", "2 Elm Avenue Ste 4"),
        ("Café & Co", "Cafe and Company"),
        ("60601", "60601"),
    ],
)
def test_the_same_name_or_address_written_differently_matches(theirs, ours):
    result = compare(theirs, ours)
    assert result.verdict == "match", result
    assert result.score >= MATCH_THRESHOLD


@pytest.mark.parametrize(
    ("theirs", "ours"),
    [
        ("Acme Plumbing", "Zenith Dental"),
        ("Acme Inc", "Acme Plumbing Inc"),  # a different business sharing a word
        ("123 Main St", "124 Main St"),  # scores 91, but another house
        ("2 Elm Ave Suite 4", "2 Elm Ave Suite 5"),
        ("60601", "60602"),
        ("IL", "IN"),
    ],
)
def test_a_near_miss_differs(theirs, ours):
    assert compare(theirs, ours).verdict == "differs"


def test_an_empty_side_is_missing_not_a_match():
    assert compare("", "Acme").verdict == "missing"
    assert compare("Acme", None).verdict == "missing"
    assert compare(" , .", "Acme").verdict == "missing"  # nothing left once normalised
    assert normalise("ACME, Inc.") == "acme inc"


# -- the PIN rule -------------------------------------------------------------------------


def status_event(**payload):
    return {"status": "pending", "attempted_pin": "1234", **payload}


@pytest.mark.parametrize(
    ("country", "payloads", "expected", "auto_rejected"),
    [
        ("US", [status_event()], PinResult.MATCHED, False),
        (
            "US",
            [status_event(status="rejected", rejection_reason="Invalid PIN")],
            PinResult.WRONG,
            True,
        ),
        (
            "US",
            [status_event(status="rejected-pending", rejection_reason="PIN mismatch")],
            PinResult.WRONG,
            True,
        ),
        # rejected, but not for its PIN ("pinned" is not the word PIN)
        (
            "US",
            [status_event(status="rejected", rejection_reason="Account pinned to a contract")],
            PinResult.MATCHED,
            False,
        ),
        ("US", [status_event(attempted_pin=None)], PinResult.MISSING, False),
        (
            "US",
            [status_event(attempted_pin="", status="rejected", rejection_reason="No PIN")],
            PinResult.MISSING,
            True,
        ),
        # the latest event carrying a PIN decides
        (
            "US",
            [status_event(attempted_pin=None), status_event(attempted_pin="9999")],
            PinResult.MATCHED,
            False,
        ),
        ("US", [{"status": "pending"}], PinResult.UNKNOWN, False),
        ("US", [], PinResult.UNKNOWN, False),
        (
            "IE",
            [status_event(status="rejected", rejection_reason="Invalid PIN")],
            PinResult.NOT_ELIGIBLE,
            False,
        ),
        ("", [status_event()], PinResult.MATCHED, False),
    ],
)
def test_the_pin_rule(country, payloads, expected, auto_rejected):
    check = pin_check(country_code=country, payloads=payloads)
    assert (check.result, check.auto_rejected) == (expected, auto_rejected)


def test_the_pin_label_says_when_a_missing_pin_was_rejected():
    check = pin_check(
        country_code="US",
        payloads=[status_event(attempted_pin=None, status="rejected", rejection_reason="PIN")],
    )
    assert check.label == "No PIN given: Telnyx rejected the request for it"


# -- the panel ----------------------------------------------------------------------------

NOW = timezone.now()


def inventory(number, *, ref="acme", days=400, source="ported", tags=("hq",), **extra):
    return PhoneNumber.objects.create(
        number=number,
        customer_reference=ref,
        tags=list(tags),
        source=source,
        status="port-out-pending",
        purchased_at=NOW - timedelta(days=days),
        synced_at=NOW,
        **extra,
    )


@pytest.fixture
def acme(db):
    return Customer.objects.create(
        account_number="A-100",
        name="ACME, Inc",
        service_address="100 Main Street",
        city="Chicago",
        state="IL",
        zip="60601",
        contact_name="Road Runner",
        customer_reference="acme",
    )


@pytest.fixture
def scenario(db, acme, make_portout):
    """Acme holds three numbers; the request takes two, one of them bought a month ago;
    a third number of the request has no customer; an earlier request was rejected."""
    inventory("+13125550100")
    inventory("+13125550101", days=30, source="purchased", tags=())
    inventory("+13125550102")  # left behind
    inventory("+13125550199", ref="")  # nobody's
    inventory("+13125550103", vanished_at=NOW)  # gone from the account: not left behind
    earlier = make_portout(phone_numbers=["+13125550100"], status="rejected", support_key="PO_1")
    portout = make_portout(
        phone_numbers=["+13125550100", "+13125550101", "+13125550199"],
        end_user_name="Acme Inc.",
        authorized_name="Wile E. Coyote",
        service_address="100 Main St",
        city="Chicago",
        state="IL",
        zip="60602",
    )
    PortOutEvent.objects.create(
        id="ev-1",
        event_type="portout.status_changed",
        portout_id=portout.id,
        payload={"status": "pending", "attempted_pin": "4321"},
        source=PortOutEvent.Source.API,
        created_at=NOW,
    )
    return portout, earlier


def test_the_evidence_of_a_partial_port_with_a_mismatch(scenario, acme):
    portout, earlier = scenario
    evidence = portout_evidence(portout)

    assert evidence.customer == acme
    owners = {n.number: (n.customer, n.source_label, n.held_days) for n in evidence.numbers}
    assert owners == {
        "+13125550100": (acme, "Ported in", 400),
        "+13125550101": (acme, "Bought", 30),
        "+13125550199": (None, "Ported in", 400),
    }
    verdicts = {label: c.verdict for label, c in evidence.comparisons}
    assert verdicts == {
        "End user": "match",
        "Authorized by": "differs",
        "Service address": "match",
        "City": "match",
        "State": "match",
        "ZIP": "differs",
    }
    assert evidence.differences == ["Authorized by", "ZIP"]
    assert evidence.pin.result == PinResult.MATCHED
    assert [(r.portout_id, r.status, r.numbers) for r in evidence.earlier] == [
        (earlier.id, "rejected", ["+13125550100"])
    ]
    assert evidence.left_behind == ["+13125550102"]
    # the inventory-based warnings
    assert evidence.numbers_without_customer() == ["+13125550199"]
    assert evidence.recent_numbers() == ["+13125550101"]
    assert not evidence.all_customer_numbers_leaving()
    assert evidence.frozen_until() is None


@pytest.mark.parametrize(
    ("authorized", "contact", "verdict", "ours"),
    [
        ("Acme Inc.", "", "match", "ACME, Inc"),  # the business itself
        ("Road Warrior", "Road Runner", "differs", "Road Runner"),
        ("Runner, Road", "Road Runner", "match", "Road Runner"),
        ("Wile E. Coyote", "", "missing", ""),  # a person, and no contact on file
        ("", "Road Runner", "missing", "ACME, Inc"),
    ],
)
def test_the_authorized_name_is_checked_against_the_business_or_its_contact(
    acme, make_portout, authorized, contact, verdict, ours
):
    acme.contact_name = contact
    acme.save()
    inventory("+13125550100")
    evidence = portout_evidence(
        make_portout(phone_numbers=["+13125550100"], authorized_name=authorized)
    )
    result = dict(evidence.comparisons)["Authorized by"]
    assert (result.verdict, result.ours) == (verdict, ours)


def test_an_explicit_number_link_wins_over_the_reference(db, acme, make_portout):
    other = Customer.objects.create(account_number="Z-1", name="Zenith Dental")
    inventory("+13125550100")
    CustomerNumber.objects.create(customer=other, number="+13125550100")
    CustomerNumber.objects.create(customer=other, number="+13125550177")  # not on the account
    portout = make_portout(phone_numbers=["+13125550100"], end_user_name="Acme Plumbing")
    evidence = portout_evidence(portout)
    assert evidence.customer == other
    assert {label: c.verdict for label, c in evidence.comparisons}["End user"] == "differs"
    assert evidence.left_behind == []  # the other link is no number of the account
    assert evidence.all_customer_numbers_leaving()


def test_a_freeze_still_running_is_reported(db, acme, make_portout):
    acme.portout_freeze_until = timezone.localdate() + timedelta(days=3)
    acme.save()
    inventory("+13125550100")
    evidence = portout_evidence(make_portout(phone_numbers=["+13125550100"]))
    assert evidence.frozen_until() == acme.portout_freeze_until
    assert evidence.frozen_until(today=timezone.localdate() + timedelta(days=4)) is None


def test_numbers_outside_the_inventory_have_no_owner(db, make_portout):
    inventory("+13125550999")
    evidence = portout_evidence(make_portout(phone_numbers=["+13125550100"], country_code="US"))
    (number,) = evidence.numbers
    assert (number.record, number.customer, number.held_days) == (None, None, None)
    assert evidence.customer is None and evidence.comparisons == []
    assert evidence.pin.result == PinResult.UNKNOWN
    assert not evidence.inventory_missing


def test_the_panel_says_when_no_inventory_was_synced_yet(db, make_portout, viewer_client):
    portout = make_portout(phone_numbers=["+13125550100"])
    assert portout_evidence(portout).inventory_missing
    html = viewer_client.get(reverse("portouts:detail", args=[portout.id])).content.decode()
    assert 'id="verification-no-inventory"' in html
    assert "Not in our inventory" not in html


def test_the_panel_shows_the_evidence_beside_the_decision(scenario, viewer_client):
    portout, earlier = scenario
    response = viewer_client.get(reverse("portouts:detail", args=[portout.id]))
    html = response.content.decode()
    assert response.status_code == 200
    # In the decision's column, right under it (the whole decision fits the first screen).
    assert html.index('id="decision"') < html.index('id="verification"')
    start = html.index('id="verification"')
    panel = html[start : html.index("</section>", html.index('id="verification-compare"'))]
    assert 'data-pin="matched"' in panel and "4321" in panel
    assert '<tr class="compare-differs" data-field="Authorized by">' in panel
    assert '<tr class="compare-differs" data-field="ZIP">' in panel
    assert '<tr class="compare-match" data-field="End user">' in panel
    assert "No customer record" in panel  # +13125550199
    assert "30 days" in panel and "Bought" in panel
    assert "+13125550102" in panel and "A partial port" in panel
    assert reverse("portouts:detail", args=[earlier.id]) in panel


def test_the_panel_reads_a_fixed_number_of_queries(
    db, acme, make_portout, viewer_client, django_assert_max_num_queries
):
    def page_for(count: int, first: int):
        numbers = [f"+1312556{first + i:04d}" for i in range(count)]
        for n in numbers:
            inventory(n)
        for n in numbers[: count // 2]:
            make_portout(phone_numbers=[n], status="canceled")
        return make_portout(phone_numbers=numbers)

    small, big = page_for(2, 0), page_for(40, 100)
    with django_assert_max_num_queries(6):
        portout_evidence(small)
    with django_assert_max_num_queries(6):
        evidence = portout_evidence(big)
    assert len(evidence.numbers) == 40 and len(evidence.earlier) == 20

    viewer_client.get("/")  # not counted: the first request keeps the permissions
    with CaptureQueriesContext(connection) as few:
        viewer_client.get(reverse("portouts:detail", args=[small.id]))
    with CaptureQueriesContext(connection) as many:
        viewer_client.get(reverse("portouts:detail", args=[big.id]))
    assert len(many) == len(few)


def test_the_panel_is_read_only_by_renders_that_show_it(scenario, viewer_client):
    """The polling and fragment renders of the page do not pay for the evidence."""
    portout, _ = scenario

    with CaptureQueriesContext(connection) as queries:
        viewer_client.get(
            reverse("portouts:detail", args=[portout.id]) + "?partial=timeline",
            headers={"HX-Request": "true"},
        )
    assert not any("portouts_phonenumber" in q["sql"] for q in queries.captured_queries)
