"""`portout_evidence`: what the verification panel shows, read from the cache only.

Never a Telnyx call, and a fixed number of queries whatever the number of numbers: the
inventory rows, the explicit number links, the customers by reference, the numbers of
those customers left out of the request, earlier requests for the numbers and the status
events (six queries; one more, whether the cache holds any inventory, when none of the
numbers is in it).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import Q
from django.utils import timezone

from portouts.choices import EventType, NumberSource, status_label
from portouts.evidence.compare import Comparison, compare
from portouts.evidence.pin import PinCheck, pin_check
from portouts.models import (
    Customer,
    CustomerNumber,
    PhoneNumber,
    PortOut,
    PortOutEvent,
    PortOutNumber,
)

#: numbers held for less than this are "recent" (bought or ported in lately)
RECENT_DAYS = 90


@dataclass(frozen=True)
class NumberEvidence:
    """One number of the request: its inventory row (None: not on the account's inventory
    as cached) and its customer (None: no record)."""

    number: str
    record: PhoneNumber | None
    customer: Customer | None
    held_since: datetime | None
    held_days: int | None

    @property
    def source_label(self) -> str:
        source = self.record.source if self.record else ""
        try:
            return str(NumberSource(source).label)
        except ValueError:
            return source or "—"


@dataclass(frozen=True)
class EarlierRequest:
    """Another port-out naming some of these numbers, and how it ended."""

    portout_id: str
    support_key: str
    status: str
    created_at: datetime | None
    numbers: list[str]

    @property
    def status_label(self) -> str:
        return status_label(self.status)


@dataclass(frozen=True)
class Evidence:
    numbers: list[NumberEvidence]
    customer: Customer | None
    other_customers: list[Customer]
    comparisons: list[tuple[str, Comparison]]
    pin: PinCheck
    earlier: list[EarlierRequest]
    left_behind: list[str]
    #: the cache holds no inventory at all yet (no full sync has read it)
    inventory_missing: bool = False

    @property
    def differences(self) -> list[str]:
        """Labels of the carrier's values that differ from our record."""
        return [label for label, c in self.comparisons if c.verdict == "differs"]

    # -- the inventory-based warnings (the risk flags read these) --------------------------

    def numbers_without_customer(self) -> list[str]:
        return [n.number for n in self.numbers if n.customer is None]

    def frozen_until(self, today: date | None = None) -> date | None:
        """The freeze date of a customer of these numbers, when it is still running."""
        today = today or timezone.localdate()
        dates = [
            c.portout_freeze_until
            for c in [self.customer, *self.other_customers]
            if c is not None and c.portout_freeze_until and c.portout_freeze_until >= today
        ]
        return max(dates, default=None)

    def all_customer_numbers_leaving(self) -> bool:
        """Every number we know for the customer is in this request."""
        return self.customer is not None and not self.left_behind

    def recent_numbers(self, days: int = RECENT_DAYS) -> list[str]:
        """Numbers bought or ported in less than `days` ago."""
        return [n.number for n in self.numbers if n.held_days is not None and n.held_days < days]


def _owners(numbers: list[str], records: dict[str, PhoneNumber]) -> dict[str, Customer]:
    """Each number's customer: an explicit link wins over the customer reference."""
    links = {
        link.number: link.customer
        for link in CustomerNumber.objects.filter(number__in=numbers).select_related("customer")
    }
    refs = {r.customer_reference for r in records.values() if r.customer_reference}
    refs -= {r.customer_reference for n, r in records.items() if n in links}
    by_ref = (
        {c.customer_reference: c for c in Customer.objects.filter(customer_reference__in=refs)}
        if refs
        else {}
    )
    owners: dict[str, Customer] = {}
    for number in numbers:
        record = records.get(number)
        owner = links.get(number) or (by_ref.get(record.customer_reference) if record else None)
        if owner is not None:
            owners[number] = owner
    return owners


def _left_behind(customers: list[Customer], numbers: list[str]) -> list[str]:
    """Numbers of these customers on the account that the request leaves out (one query)."""
    if not customers:
        return []
    ids = [c.pk for c in customers]
    refs = [c.customer_reference for c in customers if c.customer_reference]
    linked_here = CustomerNumber.objects.filter(customer_id__in=ids).values("number")
    linked_elsewhere = CustomerNumber.objects.exclude(customer_id__in=ids).values("number")
    rows = (
        PhoneNumber.objects.present()
        .filter(Q(customer_reference__in=refs) | Q(number__in=linked_here))
        .exclude(number__in=numbers)
        .exclude(number__in=linked_elsewhere)
        .values_list("number", flat=True)
    )
    return list(rows)


def _earlier(portout: PortOut, numbers: list[str]) -> list[EarlierRequest]:
    grouped: dict[str, tuple[PortOut, list[str]]] = {}
    rows = (
        PortOutNumber.objects.filter(number__in=numbers)
        .exclude(portout_id=portout.id)
        .select_related("portout")
        .only(
            "number",
            "portout__id",
            "portout__support_key",
            "portout__status",
            "portout__created_at",
        )
    )
    for row in rows:
        grouped.setdefault(row.portout_id, (row.portout, []))[1].append(row.number)
    requests = [
        EarlierRequest(p.id, p.support_key, p.status, p.created_at, sorted(found))
        for p, found in grouped.values()
    ]
    epoch = datetime.min.replace(tzinfo=timezone.get_current_timezone())
    return sorted(requests, key=lambda r: r.created_at or epoch, reverse=True)


def _authorized(name: str, customer: Customer) -> Comparison:
    """The authorized name is a person, or the business itself: it matches our contact's
    name or the customer's; with no contact on file a person's name cannot be checked."""
    by_name = compare(name, customer.name)
    if by_name.matches or not name:
        return by_name
    if customer.contact_name:
        return compare(name, customer.contact_name)
    return Comparison(name, "", 0.0, "missing")


def _comparisons(portout: PortOut, customer: Customer | None) -> list[tuple[str, Comparison]]:
    if customer is None:
        return []
    return [
        ("End user", compare(portout.end_user_name, customer.name)),
        ("Authorized by", _authorized(portout.authorized_name, customer)),
        ("Service address", compare(portout.service_address, customer.service_address)),
        ("City", compare(portout.city, customer.city)),
        ("State", compare(portout.state, customer.state)),
        ("ZIP", compare(portout.zip, customer.zip)),
    ]


def _number(
    number: str, record: PhoneNumber | None, customer: Customer | None, now: datetime
) -> NumberEvidence:
    since = (record.purchased_at or record.created_at) if record else None
    days = None if since is None else max(0, (now - since).days)
    return NumberEvidence(number, record, customer, since, days)


def portout_evidence(portout: PortOut) -> Evidence:
    """Everything the verification panel shows about one port-out, from the cache."""
    now = timezone.now()
    numbers = list(dict.fromkeys(str(n) for n in portout.phone_numbers if n))
    records = {r.number: r for r in PhoneNumber.objects.filter(number__in=numbers)}
    owners = _owners(numbers, records)
    ranked = [c for c, _ in Counter(owners.values()).most_common()]
    customer = ranked[0] if ranked else None
    payloads = PortOutEvent.objects.filter(
        portout_id=portout.id, event_type=EventType.STATUS_CHANGED
    ).order_by("created_at", "received_at")
    return Evidence(
        numbers=[_number(n, records.get(n), owners.get(n), now) for n in numbers],
        customer=customer,
        other_customers=ranked[1:],
        comparisons=_comparisons(portout, customer),
        pin=pin_check(
            country_code=portout.country_code,
            payloads=[p for p in payloads.values_list("payload", flat=True) if isinstance(p, dict)],
        ),
        earlier=_earlier(portout, numbers),
        left_behind=_left_behind(ranked, numbers),
        inventory_missing=not records and not PhoneNumber.objects.exists(),
    )


__all__ = ["RECENT_DAYS", "EarlierRequest", "Evidence", "NumberEvidence", "portout_evidence"]
