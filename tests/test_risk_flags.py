"""Each risk flag raised by its case and not by its near-miss; the score; the cost."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from portouts.choices import FLAG_SEVERITY, RiskFlagKind, RiskSeverity
from portouts.models import (
    ConfirmationRequest,
    Customer,
    ExpectedPortOut,
    PortOutEvent,
    RiskAssessment,
    RiskFlag,
    WatchEntry,
)
from portouts.risk.engine import risk_assess, risk_score
from portouts.risk.matching import similar
from portouts.risk.registry import REGISTRY, Flag

pytestmark = pytest.mark.django_db

#: a Wednesday at 15:00 UTC, inside the business hours set below
WEDNESDAY = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _hours(settings):
    settings.RISK_BUSINESS_TIMEZONE = "UTC"
    settings.RISK_BUSINESS_DAYS = [1, 2, 3, 4, 5]
    settings.RISK_BUSINESS_HOURS = "09:00-17:00"
    settings.RISK_MANY_NUMBERS = 10


def flags(portout_id: str) -> dict[str, RiskFlag]:
    return {f.kind: f for f in RiskFlag.objects.filter(portout_id=portout_id)}


def assess(*portouts) -> None:
    risk_assess(portout_ids=[p.id for p in portouts])


def status_event(portout_id: str, n: int, **payload) -> None:
    PortOutEvent.objects.create(
        id=f"ev-{portout_id}-{n}",
        event_type="portout.status_changed",
        portout_id=portout_id,
        payload={"id": portout_id, **payload},
        created_at=timezone.now(),
        source="api",
    )


def test_every_kind_has_one_function_and_a_severity():
    assert set(REGISTRY) == set(RiskFlagKind.values) == set(FLAG_SEVERITY)


def test_wrong_pin_from_a_pin_rejection(make_portout):
    wrong = make_portout(created_at=WEDNESDAY)
    status_event(
        wrong.id, 1, status="rejected", attempted_pin="1111", rejection_reason="Invalid PIN"
    )
    fine = make_portout(created_at=WEDNESDAY)
    status_event(fine.id, 1, status="rejected", attempted_pin="1234", rejection_reason="Spinning")
    missing = make_portout(created_at=WEDNESDAY)
    status_event(missing.id, 1, status="pending", attempted_pin=None)
    unknown = make_portout(created_at=WEDNESDAY)  # no event yet: nothing is known
    assess(wrong, fine, missing, unknown)
    assert "rejected the PIN" in flags(wrong.id)[RiskFlagKind.PIN].sentence
    assert flags(wrong.id)[RiskFlagKind.PIN].severity == RiskSeverity.HIGH
    assert RiskFlagKind.PIN not in flags(fine.id)  # "Spinning" is not the word PIN
    assert "gave no PIN" in flags(missing.id)[RiskFlagKind.PIN].sentence
    assert RiskFlagKind.PIN not in flags(unknown.id)


def test_new_spid_and_carrier(make_portout):
    first = make_portout(spid="123X", carrier_name="Known Mobile", created_at=WEDNESDAY)
    again = make_portout(
        spid="123x", carrier_name="known mobile", created_at=WEDNESDAY + timedelta(hours=1)
    )
    new_spid = make_portout(
        spid="999Z", carrier_name="Known Mobile", created_at=WEDNESDAY + timedelta(hours=1)
    )
    assess(first, again, new_spid)
    assert RiskFlagKind.NEW_CARRIER not in flags(again.id)
    assert (
        flags(new_spid.id)[RiskFlagKind.NEW_CARRIER].sentence
        == "SPID 999Z never seen on this account before"
    )
    assert "gaining carrier Known Mobile" in flags(first.id)[RiskFlagKind.NEW_CARRIER].sentence


def test_many_numbers_from_the_threshold(make_portout):
    many = make_portout(phone_numbers=[f"+1312555{i:04d}" for i in range(10)])
    fewer = make_portout(phone_numbers=[f"+1773555{i:04d}" for i in range(9)])
    assess(many, fewer)
    assert flags(many.id)[RiskFlagKind.MANY_NUMBERS].sentence.startswith("10 numbers leaving")
    assert RiskFlagKind.MANY_NUMBERS not in flags(fewer.id)


def test_repeated_attempts_on_the_same_numbers(make_portout):
    earlier = make_portout(
        phone_numbers=["+13125550001", "+13125550002"],
        status="rejected",
        support_key="PO_EARLY",
        created_at=WEDNESDAY - timedelta(days=3),
    )
    again = make_portout(phone_numbers=["+13125550002"], created_at=WEDNESDAY)
    other = make_portout(phone_numbers=["+13125550003"], created_at=WEDNESDAY)
    assess(earlier, again, other)
    sentence = flags(again.id)[RiskFlagKind.REPEATED].sentence
    assert sentence == "1 earlier port-out request on these numbers: PO_EARLY (rejected)"
    assert RiskFlagKind.REPEATED not in flags(other.id)
    assert RiskFlagKind.REPEATED not in flags(earlier.id)  # only earlier requests count


def test_outside_business_hours(make_portout):
    saturday = make_portout(created_at=datetime(2026, 12, 5, 12, 0, tzinfo=UTC))
    evening = make_portout(created_at=datetime(2026, 12, 2, 17, 0, tzinfo=UTC))
    inside = make_portout(created_at=datetime(2026, 12, 2, 16, 59, tzinfo=UTC))
    assess(saturday, evening, inside)
    assert flags(saturday.id)[RiskFlagKind.OFF_HOURS].sentence == (
        "Created Sat 12:00, outside business hours (Mon, Tue, Wed, Thu, Fri 09:00-17:00 UTC)"
    )
    assert RiskFlagKind.OFF_HOURS in flags(evening.id)
    assert RiskFlagKind.OFF_HOURS not in flags(inside.id)


def test_business_hours_are_read_in_their_time_zone(make_portout, settings):
    settings.RISK_BUSINESS_TIMEZONE = "America/Chicago"  # 15:00 UTC is 09:00 in Chicago
    portout = make_portout(created_at=WEDNESDAY)
    assess(portout)
    assert RiskFlagKind.OFF_HOURS not in flags(portout.id)


def test_names_are_compared_fuzzily():
    assert similar("Acme Inc.", "ACME, Inc")
    assert not similar("Acme Plumbing", "Zenith Dental")
    assert not similar("", "")


def test_watch_list_matches_spid_carrier_names_and_address(make_portout):
    WatchEntry.objects.create(kind="spid", value="666F")
    WatchEntry.objects.create(kind="name", value="ACME, Inc")
    WatchEntry.objects.create(kind="address", value="12 Fraud Street")
    hit = make_portout(
        spid="666f",
        end_user_name="Acme Inc.",
        service_address="12 fraud street",
        created_at=WEDNESDAY,
    )
    near = make_portout(
        spid="666G",
        end_user_name="Acme Plumbing",
        authorized_name="Zenith Dental",
        service_address="99 Honest Road",
        created_at=WEDNESDAY,
    )
    assess(hit, near)
    sentence = flags(hit.id)[RiskFlagKind.WATCHLIST].sentence
    assert sentence == (
        "On the watch list: Address “12 Fraud Street”, Name “ACME, Inc”, SPID “666F”"
    )
    assert RiskFlagKind.WATCHLIST not in flags(near.id)


def test_expected_port_is_a_positive_flag(make_portout):
    ExpectedPortOut.objects.create(
        numbers=["+13125559001", "+13125559002"],
        gaining_carrier="Churn Wireless",
        valid_until=WEDNESDAY + timedelta(days=2),
        note="Ticket 42",
    )
    match = make_portout(
        phone_numbers=["+13125559001"], carrier_name="CHURN wireless", created_at=WEDNESDAY
    )
    other_carrier = make_portout(
        phone_numbers=["+13125559002"], carrier_name="Zenith Tel", created_at=WEDNESDAY
    )
    too_late = make_portout(
        phone_numbers=["+13125559002"],
        carrier_name="Churn Wireless",
        created_at=WEDNESDAY + timedelta(days=3),
    )
    assess(match, other_carrier, too_late)
    flag = flags(match.id)[RiskFlagKind.EXPECTED]
    assert flag.severity == RiskSeverity.POSITIVE
    assert flag.sentence.startswith("Expected: 1 of its 1 numbers registered as leaving")
    assert flag.sentence.endswith(": Ticket 42")
    assert RiskFlagKind.EXPECTED not in flags(other_carrier.id)
    assert RiskFlagKind.EXPECTED not in flags(too_late.id)


def test_an_expected_port_names_numbers_or_a_customer():
    until = WEDNESDAY + timedelta(days=2)
    with pytest.raises(ValidationError) as empty:
        ExpectedPortOut(valid_until=until, note="Ticket 9").full_clean()
    assert empty.value.messages == [
        "Name the numbers expected to leave, or the customer expected to leave."
    ]
    with pytest.raises(ValidationError) as bad:
        ExpectedPortOut(numbers=["312 555 0142"], valid_until=until).full_clean()
    assert "is not a phone number in E.164 form" in bad.value.messages[0]
    acme = Customer.objects.create(account_number="A-1", name="Acme Inc.")
    ExpectedPortOut(customer=acme, valid_until=until).full_clean()
    ExpectedPortOut(numbers=["+13125550142"], valid_until=until).full_clean()


def _confirmation(portout, reviewer, **fields) -> ConfirmationRequest:
    now = timezone.now()
    values = {
        "token_id": f"t-{portout.id}",
        "portout": portout,
        "email": "jane@example.com",
        "sent_by": reviewer,
        "answer_by": now + timedelta(hours=1),
        "expires_at": now + timedelta(hours=5),
    }
    values.update(fields)
    return ConfirmationRequest.objects.create(**values)


def test_end_user_answers_and_no_answer(make_portout, reviewer):
    now = timezone.now()
    said_no = make_portout(created_at=WEDNESDAY)
    _confirmation(said_no, reviewer, answer="no", answered_at=now)
    said_yes = make_portout(created_at=WEDNESDAY)
    _confirmation(said_yes, reviewer, answer="yes", answered_at=now)
    silent = make_portout(created_at=WEDNESDAY)
    _confirmation(silent, reviewer, answer_by=now - timedelta(minutes=1))
    waiting = make_portout(created_at=WEDNESDAY)
    _confirmation(waiting, reviewer)
    assess(said_no, said_yes, silent, waiting)
    no = flags(said_no.id)[RiskFlagKind.CONFIRMED_NO]
    assert no.severity == RiskSeverity.CRITICAL and "j***@example.com" in no.sentence
    assert RiskFlagKind.CONFIRMED_YES in flags(said_yes.id)
    assert RiskFlagKind.CONFIRMED_NO not in flags(said_yes.id)
    assert flags(silent.id)[RiskFlagKind.NO_ANSWER].sentence.startswith(
        "No answer from j***@example.com by "
    )
    assert not {RiskFlagKind.NO_ANSWER, RiskFlagKind.CONFIRMED_NO} & set(flags(waiting.id))


def test_the_score_sums_severity_points_within_0_and_100():
    assert risk_score([]) == 0
    assert risk_score([Flag("off_hours", "x"), Flag("new_carrier", "y")]) == 30
    assert risk_score([Flag("expected", "x"), Flag("off_hours", "y")]) == 0
    assert risk_score([Flag("confirmed_no", "x"), Flag("pin", "y"), Flag("repeated", "z")]) == 100


def test_the_score_is_stored_and_orders_the_queue(make_portout, viewer_client, fast_passwords):
    calm = make_portout(created_at=WEDNESDAY, spid="S1")
    risky = make_portout(created_at=WEDNESDAY + timedelta(minutes=5), spid="S1")
    status_event(risky.id, 1, attempted_pin="", rejection_reason="PIN mismatch")
    assess(calm, risky)
    assert RiskAssessment.objects.get(portout=risky).score == 35
    # Both overdue (same section): the riskier first, though created later.
    response = viewer_client.get("/")
    rows = [row["id"] for section in response.context["sections"] for row in section.rows]
    assert rows[:2] == [risky.id, calm.id]
    html = response.content.decode()
    assert ">risk 35</span>" in html and ">risk 20</span>" in html  # calm: SPID S1 is new


def test_flags_are_rewritten_only_when_they_change(make_portout):
    portout = make_portout(created_at=WEDNESDAY)
    assess(portout)
    first = RiskAssessment.objects.get(portout=portout)
    assess(portout)
    again = RiskAssessment.objects.get(portout=portout)
    assert again.changed_at == first.changed_at and again.computed_at > first.computed_at
    WatchEntry.objects.create(kind="spid", value=portout.spid)
    assess(portout)
    assert RiskAssessment.objects.get(portout=portout).changed_at > first.changed_at


def test_assessing_costs_the_same_queries_for_5_or_200_port_outs(make_portout, reviewer):
    WatchEntry.objects.create(kind="name", value="Someone Else")
    ExpectedPortOut.objects.create(numbers=["+19999999999"], valid_until=WEDNESDAY)
    counts = []
    for n in (5, 200):
        portouts = [make_portout(created_at=WEDNESDAY) for _ in range(n)]
        for p in portouts[:3]:
            status_event(p.id, 1, attempted_pin="1234")
        _confirmation(portouts[0], reviewer)
        with CaptureQueriesContext(connection) as ctx:
            risk_assess(portout_ids=[p.id for p in portouts])
        counts.append(len(ctx.captured_queries))
    # 15, and at most 7 for the numbers' inventory and customers (portouts_evidence)
    assert counts[0] == counts[1] <= 15 + 7
