"""The flags read from the number inventory and our customer records, each raised by its
case and not by its near-miss, and their cost in queries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from portouts.choices import FLAG_SEVERITY, RiskFlagKind, RiskSeverity
from portouts.models import Customer, CustomerNumber, ExpectedPortOut, PhoneNumber, RiskFlag
from portouts.risk.engine import risk_assess

pytestmark = pytest.mark.django_db

#: a Wednesday at 15:00 UTC, inside the business hours set below
WEDNESDAY = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)
NOW = timezone.now()


@pytest.fixture(autouse=True)
def _hours(settings):
    settings.RISK_BUSINESS_TIMEZONE = "UTC"
    settings.RISK_BUSINESS_DAYS = [1, 2, 3, 4, 5]
    settings.RISK_BUSINESS_HOURS = "09:00-17:00"


def inventory(number: str, *, ref: str = "acme", days: int = 400) -> PhoneNumber:
    return PhoneNumber.objects.create(
        number=number,
        customer_reference=ref,
        source="ported",
        status="active",
        purchased_at=NOW - timedelta(days=days),
        synced_at=NOW,
    )


def customer(ref: str = "acme", **fields) -> Customer:
    values = {
        "account_number": f"A-{ref}",
        "name": "ACME, Inc",
        "service_address": "100 Main Street",
        "city": "Chicago",
        "state": "IL",
        "zip": "60601",
        "customer_reference": ref,
        **fields,
    }
    return Customer.objects.create(**values)


def request(make_portout, *numbers: str, **fields):
    values = {
        "end_user_name": "Acme Inc.",
        "authorized_name": "Acme Inc",
        "service_address": "100 Main St",
        "city": "Chicago",
        "state": "IL",
        "zip": "60601",
        "created_at": WEDNESDAY,
        **fields,
    }
    return make_portout(phone_numbers=list(numbers), **values)


def kinds(*portouts) -> list[dict[str, RiskFlag]]:
    risk_assess(portout_ids=[p.id for p in portouts])
    return [{f.kind: f for f in RiskFlag.objects.filter(portout_id=p.id)} for p in portouts]


def test_severities_are_set_once():
    assert FLAG_SEVERITY[RiskFlagKind.CUSTOMER_MISMATCH] == RiskSeverity.HIGH
    assert FLAG_SEVERITY[RiskFlagKind.FROZEN] == RiskSeverity.HIGH
    assert FLAG_SEVERITY[RiskFlagKind.NO_CUSTOMER] == RiskSeverity.LOW


def test_a_name_or_address_that_differs_from_our_record(make_portout):
    customer()
    inventory("+13125550100")
    inventory("+13125550101")
    inventory("+13125550102")  # left behind by both requests
    differs = request(make_portout, "+13125550100", service_address="104 Main St", zip="60602")
    same = request(make_portout, "+13125550101")  # written differently, same values
    flagged, fine = kinds(differs, same)
    flag = flagged[RiskFlagKind.CUSTOMER_MISMATCH]
    assert flag.sentence == "Differs from our record of ACME, Inc: Service address, ZIP"
    assert flag.severity == RiskSeverity.HIGH
    assert RiskFlagKind.CUSTOMER_MISMATCH not in fine


def test_numbers_without_a_customer_record(make_portout):
    customer()
    inventory("+13125550100")
    inventory("+13125550101")
    inventory("+13125550199", ref="")  # nobody's
    orphan = request(make_portout, "+13125550100", "+13125550199")
    owned = request(make_portout, "+13125550101")
    flagged, fine = kinds(orphan, owned)
    assert flagged[RiskFlagKind.NO_CUSTOMER].sentence == (
        "1 of 2 numbers have no customer record: …0199"
    )
    assert RiskFlagKind.NO_CUSTOMER not in fine


def test_a_customer_under_a_port_out_freeze(make_portout):
    customer(portout_freeze_until=timezone.localdate() + timedelta(days=10))
    customer("old", portout_freeze_until=timezone.localdate() - timedelta(days=1))
    inventory("+13125550100")
    inventory("+13125550101")
    inventory("+13125550200", ref="old")
    inventory("+13125550201", ref="old")
    frozen = request(make_portout, "+13125550100")
    ended = request(make_portout, "+13125550200")  # its freeze ended yesterday
    flagged, fine = kinds(frozen, ended)
    until = timezone.localdate() + timedelta(days=10)
    assert flagged[RiskFlagKind.FROZEN].sentence == (
        f"The customer asked that no number leave before {until:%Y-%m-%d} (port-out freeze)"
    )
    assert RiskFlagKind.FROZEN not in fine


def test_all_of_a_customers_numbers_leaving_at_once(make_portout):
    acme = customer()
    inventory("+13125550100")
    inventory("+13125550101", ref="")
    CustomerNumber.objects.create(customer=acme, number="+13125550101")  # linked by hand
    customer("zen", name="Zenith Dental")
    inventory("+13125550200", ref="zen")
    inventory("+13125550201", ref="zen")
    everything = request(make_portout, "+13125550100", "+13125550101")
    part = request(make_portout, "+13125550200", end_user_name="Zenith Dental")
    flagged, fine = kinds(everything, part)
    assert flagged[RiskFlagKind.ALL_NUMBERS].sentence == (
        "Every number we know for ACME, Inc is in this request"
    )
    assert RiskFlagKind.ALL_NUMBERS not in fine  # +13125550201 stays


def test_numbers_bought_or_ported_in_lately(make_portout):
    customer()
    inventory("+13125550100", days=30)
    inventory("+13125550101", days=90)  # exactly 90 days: not recent
    inventory("+13125550102")
    new = request(make_portout, "+13125550100")
    held = request(make_portout, "+13125550101")
    flagged, fine = kinds(new, held)
    assert flagged[RiskFlagKind.RECENT_NUMBERS].sentence == (
        "Bought or ported in less than 90 days ago: …0100"
    )
    assert RiskFlagKind.RECENT_NUMBERS not in fine


def test_an_expected_port_by_customer_matches_only_requests_for_its_numbers(make_portout):
    acme = customer("acme")
    zenith = customer("zenith", name="Zenith Dental")
    for number in ("+13125558001", "+13125558002", "+13125558005"):
        inventory(number, ref="acme")
    inventory("+13125558003", ref="zenith")
    inventory("+13125558004", ref="")
    CustomerNumber.objects.create(customer=acme, number="+13125558004")  # acme's by link
    CustomerNumber.objects.create(customer=zenith, number="+13125558005")  # the link wins
    until = WEDNESDAY + timedelta(days=2)
    ExpectedPortOut.objects.create(
        customer=acme, gaining_carrier="Churn Wireless", valid_until=until, note="Ticket 77"
    )
    ExpectedPortOut.objects.create(customer=zenith, gaining_carrier="777A", valid_until=until)
    churn = {"carrier_name": "CHURN wireless", "spid": "123C"}
    match = request(make_portout, "+13125558001", "+13125558004", **churn)
    by_spid = request(make_portout, "+13125558003", carrier_name="Other Tel", spid="777a")
    one_foreign = request(make_portout, "+13125558001", "+13125558003", **churn)
    one_unknown = request(make_portout, "+13125558002", "+13125558999", **churn)
    linked_away = request(make_portout, "+13125558005", **churn)
    other_carrier = request(make_portout, "+13125558002", carrier_name="Zenith Tel", spid="9")
    too_late = request(make_portout, "+13125558002", **churn, created_at=until + timedelta(1))
    found = kinds(match, by_spid, one_foreign, one_unknown, linked_away, other_carrier, too_late)
    flag = found[0][RiskFlagKind.EXPECTED]
    assert flag.severity == RiskSeverity.POSITIVE
    assert flag.sentence.startswith(
        "Expected: its 2 numbers all belong to ACME, Inc, a customer registered as leaving"
    )
    assert flag.sentence.endswith(": Ticket 77")
    assert "Zenith Dental" in found[1][RiskFlagKind.EXPECTED].sentence
    for near_miss in found[2:]:
        assert RiskFlagKind.EXPECTED not in near_miss


def test_no_inventory_in_the_cache_raises_none_of_them(make_portout):
    customer()
    alone = request(make_portout, "+13125550100")
    (found,) = kinds(alone)
    inventory_kinds = {
        RiskFlagKind.CUSTOMER_MISMATCH,
        RiskFlagKind.NO_CUSTOMER,
        RiskFlagKind.FROZEN,
        RiskFlagKind.ALL_NUMBERS,
        RiskFlagKind.RECENT_NUMBERS,
    }
    assert not inventory_kinds & set(found)


def test_the_inventory_costs_the_same_queries_for_5_or_200_port_outs(make_portout):
    acme = customer(portout_freeze_until=timezone.localdate() + timedelta(days=3))
    counts = []
    for n in (5, 200):
        portouts = []
        for i in range(n):
            number = f"+1312{n:03d}{i:04d}"
            inventory(number, days=i)
            if i % 2:
                CustomerNumber.objects.create(customer=acme, number=number)
            portouts.append(request(make_portout, number, "+19999999999"))
        with CaptureQueriesContext(connection) as ctx:
            risk_assess(portout_ids=[p.id for p in portouts])
        counts.append(len(ctx.captured_queries))
        frozen = RiskFlag.objects.filter(kind=RiskFlagKind.FROZEN, portout__in=portouts)
        assert frozen.count() == n
    # the risk engine's own (15) and the verification panel's evidence for the batch (at
    # most 7: portouts.evidence.selectors.portouts_evidence)
    assert counts[0] == counts[1] <= 15 + 7
