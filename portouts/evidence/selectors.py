"""`portout_evidence`: what the verification panel shows, read from the cache only;
`portouts_evidence` the same for many port-outs at once (the risk flags' batches).

Never a Telnyx call, and a fixed number of queries whatever the number of numbers or of
port-outs: the
inventory rows, the explicit number links, the customers by reference, the numbers of
those customers left out of the request, earlier requests for the numbers and the status
events (six queries; one more, whether the cache holds any inventory, when none of the
numbers is in it).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db.models import OuterRef, Q, Subquery
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


def _owners(numbers: set[str], records: dict[str, PhoneNumber]) -> dict[str, Customer]:
    """Each number's customer: an explicit link wins over the customer reference."""
    links = {
        link.number: link.customer
        for link in CustomerNumber.objects.filter(number__in=numbers).select_related("customer")
    }
    # A reference is looked up for the numbers no link ties (another number of the same
    # reference may be linked).
    refs = {r.customer_reference for n, r in records.items() if n not in links}
    refs.discard("")
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


def _customer_numbers(customers: list[Customer]) -> list[tuple[str, int]]:
    """(number, owner id) of every number on the account that belongs to one of these
    customers, by link or by reference (a link wins), in one query."""
    if not customers:
        return []
    ids = [c.pk for c in customers]
    by_ref = {c.customer_reference: c.pk for c in customers if c.customer_reference}
    linked_here = CustomerNumber.objects.filter(customer_id__in=ids).values("number")
    link = CustomerNumber.objects.filter(number=OuterRef("number")).values("customer_id")[:1]
    rows = (
        PhoneNumber.objects.present()
        .filter(Q(customer_reference__in=list(by_ref)) | Q(number__in=linked_here))
        .annotate(linked_to=Subquery(link))
        .values_list("number", "customer_reference", "linked_to")
    )
    found = []
    for number, ref, linked_to in rows:
        owner = linked_to if linked_to is not None else by_ref.get(ref)
        if owner is not None:
            found.append((number, owner))
    return found


def _earlier(portout: PortOut, rows: list[PortOutNumber]) -> list[EarlierRequest]:
    grouped: dict[str, tuple[PortOut, list[str]]] = {}
    for row in rows:
        if row.portout_id != portout.id:
            grouped.setdefault(row.portout_id, (row.portout, []))[1].append(row.number)
    requests = [
        EarlierRequest(p.id, p.support_key, p.status, p.created_at, sorted(found))
        for p, found in grouped.values()
    ]
    epoch = datetime.min.replace(tzinfo=timezone.get_current_timezone())
    return sorted(requests, key=lambda r: r.created_at or epoch, reverse=True)


def _requests_naming(numbers: set[str]) -> dict[str, list[PortOutNumber]]:
    """number -> the cached requests naming it (one query)."""
    rows = (
        PortOutNumber.objects.filter(number__in=numbers)
        .select_related("portout")
        .only(
            "number",
            "portout__id",
            "portout__support_key",
            "portout__status",
            "portout__created_at",
        )
    )
    found: dict[str, list[PortOutNumber]] = defaultdict(list)
    for row in rows:
        found[row.number].append(row)
    return found


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
    return portouts_evidence([portout])[portout.id]


def _numbers_of(portout: PortOut) -> list[str]:
    return list(dict.fromkeys(str(n) for n in portout.phone_numbers or () if n))


def portouts_evidence(portouts: Sequence[PortOut]) -> dict[str, Evidence]:
    """The evidence of each port-out (by id) in the same six queries as for one: the
    risk flags read a whole batch's through here."""
    now = timezone.now()
    wanted = {p.id: _numbers_of(p) for p in portouts}
    every = {n for numbers in wanted.values() for n in numbers}
    records = {r.number: r for r in PhoneNumber.objects.filter(number__in=every)}
    owners = _owners(every, records)
    ranked = {
        pid: [c for c, _ in Counter(owners[n] for n in numbers if n in owners).most_common()]
        for pid, numbers in wanted.items()
    }
    customers = list({c.pk: c for found in ranked.values() for c in found}.values())
    owned = _customer_numbers(customers)
    naming = _requests_naming(every)
    payloads: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for pid, payload in (
        PortOutEvent.objects.filter(
            portout_id__in=list(wanted), event_type=EventType.STATUS_CHANGED
        )
        .order_by("created_at", "received_at")
        .values_list("portout_id", "payload")
    ):
        if isinstance(payload, dict):
            payloads[pid].append(payload)
    uncached = {pid for pid, numbers in wanted.items() if not any(n in records for n in numbers)}
    no_inventory = bool(uncached) and not PhoneNumber.objects.exists()
    found = {}
    for portout in portouts:
        numbers, mine = wanted[portout.id], ranked[portout.id]
        ids = {c.pk for c in mine}
        customer = mine[0] if mine else None
        found[portout.id] = Evidence(
            numbers=[_number(n, records.get(n), owners.get(n), now) for n in numbers],
            customer=customer,
            other_customers=mine[1:],
            comparisons=_comparisons(portout, customer),
            pin=pin_check(country_code=portout.country_code, payloads=payloads[portout.id]),
            earlier=_earlier(portout, [r for n in numbers for r in naming.get(n, ())]),
            left_behind=[n for n, owner in owned if owner in ids and n not in numbers],
            inventory_missing=no_inventory and portout.id in uncached,
        )
    return found


__all__ = [
    "RECENT_DAYS",
    "EarlierRequest",
    "Evidence",
    "NumberEvidence",
    "portout_evidence",
    "portouts_evidence",
]
