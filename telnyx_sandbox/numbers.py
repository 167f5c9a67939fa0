"""The account's number inventory (`GET /v2/phone_numbers`) and the customers who own it.

Every number a port-out names is in the inventory: seeding builds port-outs from the
customers' numbers (`customers.py`), and a port-out created with numbers the account does
not know adds them, with no customer reference. A number's status follows the port-outs
that name it: `port-out-pending` while one is open (pending, authorized or
rejected-pending), `ported-out` once one has ported, `active` otherwise.

Some US numbers carry a port-out PIN (`external_pin`); Telnyx rejects a port-out whose
attempted PIN does not match it on its own (`pin_refused`). PIN protection does not apply
outside the US, so Canadian numbers never have one.

`Inventory` knows nothing of locking; the state calls it under its lock.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from .entities import PortOut, dumps, iso
from .errors import SandboxError
from .filters import page_desc, page_meta
from .indexes import Key
from .params import Query

__all__ = [
    "NUMBER_SOURCES",
    "NUMBER_STATUSES",
    "OPEN_STATUSES",
    "Customer",
    "Inventory",
    "NumberFilter",
    "number_filter",
    "PhoneNumber",
    "phone_number_filter",
]

#: statuses a number of this account can have here (Telnyx has more, e.g. purchase-pending)
NUMBER_STATUSES = ("active", "port-out-pending", "ported-out")
NUMBER_SOURCES = ("purchased", "ported")
#: what filter[status] accepts (Telnyx's list); statuses the sandbox never gives match nothing
NUMBER_STATUSES_FILTERABLE = (
    "purchase-pending",
    "purchase-failed",
    "port-pending",
    "active",
    "deleted",
    "port-failed",
    "emergency-only",
    "ported-out",
    "port-out-pending",
)
#: port-out statuses that hold their numbers (the number is port-out-pending)
OPEN_STATUSES = frozenset(("pending", "authorized", "rejected-pending"))
_SOURCE_TYPE = {"purchased": "number_order", "ported": "port_request"}


@dataclass(slots=True, eq=False)
class PhoneNumber:
    id: str
    phone_number: str
    customer_reference: str | None
    tags: tuple[str, ...]
    source: str
    purchased_ts: float
    updated_ts: float
    connection_id: str | None
    country: str = "US"
    external_pin: str | None = None
    deletion_lock: bool = False
    status: str = "active"
    json_cache: bytes | None = None

    @property
    def key(self) -> Key:
        return (self.purchased_ts, self.id)

    def to_dict(self) -> dict[str, object]:
        """Telnyx's NumbersPhoneNumberDetailed, the fields the sandbox keeps."""
        return {
            "id": self.id,
            "record_type": "phone_number",
            "phone_number": self.phone_number,
            "status": self.status,
            "tags": list(self.tags),
            "customer_reference": self.customer_reference,
            "purchased_at": iso(self.purchased_ts),
            "created_at": iso(self.purchased_ts),
            "updated_at": iso(self.updated_ts),
            "source": self.source,
            "source_type": _SOURCE_TYPE[self.source],
            "connection_id": self.connection_id,
            "country_iso_alpha2": self.country,
            "phone_number_type": "local",
            "external_pin": self.external_pin,
            "deletion_lock_enabled": self.deletion_lock,
        }

    def json(self) -> bytes:
        if self.json_cache is None:
            self.json_cache = dumps(self.to_dict())
        return self.json_cache


@dataclass(slots=True, eq=False)
class Customer:
    """A customer of the account, as the team's own records know them (the customers CSV)."""

    reference: str
    account_number: str
    name: str
    contact_name: str
    service_address: str
    city: str
    state: str
    zip: str
    country: str
    contact_email: str
    contact_phone: str
    area_codes: tuple[str, ...]
    pin: str | None = None
    notes: str = ""
    numbers: list[str] = field(default_factory=list)

    def csv_row(self) -> dict[str, str]:
        return {
            "account_number": self.account_number,
            "name": self.name,
            "service_address": self.service_address,
            "city": self.city,
            "state": self.state,
            "zip": self.zip,
            "contact_email": self.contact_email,
            "contact_phone": self.contact_phone,
            "customer_reference": self.reference,
            "notes": self.notes,
        }


@dataclass
class NumberFilter:
    """GET /phone_numbers filters, validated."""

    phone_number: str | None = None  # digits, at least three
    customer_reference: str | None = None
    tag: str | None = None
    status: str | None = None
    source: str | None = None


class Inventory:
    """Numbers by E.164 and by id, sorted keys for paging, customers by reference."""

    def __init__(self) -> None:
        self.numbers: dict[str, PhoneNumber] = {}
        self.by_id: dict[str, PhoneNumber] = {}
        self.order: list[Key] = []
        self.by_customer: dict[str, list[Key]] = {}
        self.customers: dict[str, Customer] = {}
        self.ids_issued = 0

    def next_id(self) -> str:
        """Telnyx number ids are 19-digit integers as strings; one is never issued twice,
        even after a number left the inventory."""
        self.ids_issued += 1
        return str(1_293_384_261_075_731_499 + (self.ids_issued - 1) * 7_919)

    def add(self, number: PhoneNumber, *, bulk: bool = False) -> None:
        self.numbers[number.phone_number] = number
        self.by_id[number.id] = number
        keys = [self.order]
        if number.customer_reference is not None:
            keys.append(self.by_customer.setdefault(number.customer_reference, []))
        for sorted_keys in keys:
            if bulk:
                sorted_keys.append(number.key)
            else:
                bisect.insort(sorted_keys, number.key)

    def add_unowned(
        self,
        e164: str,
        bought: float,
        *,
        connection_id: str | None,
        country: str = "US",
        bulk: bool = False,
    ) -> None:
        """A number of the account bought at `bought` that no customer reference names."""
        number = PhoneNumber(
            id=self.next_id(),
            phone_number=e164,
            customer_reference=None,
            tags=(),
            source="purchased",
            purchased_ts=bought,
            updated_ts=bought,
            connection_id=connection_id,
            country=country,
        )
        self.add(number, bulk=bulk)

    def add_customer(self, customer: Customer) -> None:
        self.customers[customer.reference] = customer

    def remove(self, e164: str) -> None:
        """A number leaves the account (ported away or released)."""
        number = self.numbers.pop(e164)
        del self.by_id[number.id]
        for customer in self.customers.values():
            if e164 in customer.numbers:
                customer.numbers.remove(e164)
        self.finish_bulk()

    def finish_bulk(self) -> None:
        """Sort the keys of a bulk load, from the records (seeding may move a number's
        purchase date back after adding it)."""
        self.order = sorted(n.key for n in self.by_id.values())
        by_customer: dict[str, list[Key]] = {}
        for key in self.order:
            ref = self.by_id[key[1]].customer_reference
            if ref is not None:
                by_customer.setdefault(ref, []).append(key)
        self.by_customer = by_customer

    def owner(self, numbers: Iterable[str]) -> Customer | None:
        """The one customer owning all of `numbers`, if there is one."""
        refs = {getattr(self.numbers.get(n), "customer_reference", None) for n in numbers}
        ref = refs.pop() if len(refs) == 1 else None
        return None if ref is None else self.customers.get(ref)

    # ------------------------------------------------------------------ reads

    def get(self, number_id: str) -> PhoneNumber:
        number = self.by_id.get(number_id)
        if number is None:
            raise SandboxError("10005", f"Phone number '{number_id}' was not found.")
        return number

    def page(self, flt: NumberFilter, page: int, size: int) -> tuple[list[bytes], dict[str, int]]:
        """A page of matching numbers, newest first (Telnyx's default order)."""
        keys = self._matching(flt)
        by_id = self.by_id
        items = [by_id[nid].json() for _, nid in page_desc(keys, page, size)]
        return items, page_meta(len(keys), page, size)

    def _matching(self, flt: NumberFilter) -> list[Key]:
        candidates: list[Key]
        if flt.customer_reference is not None:
            candidates = self.by_customer.get(flt.customer_reference, [])
        elif flt.phone_number is not None and len(flt.phone_number) >= 11:
            exact = self.numbers.get("+" + flt.phone_number)
            candidates = [exact.key] if exact is not None else []
        else:
            candidates = self.order
        checks = _checks(flt)
        if not checks:
            return candidates
        by_id = self.by_id
        return [k for k in candidates if all(check(by_id[k[1]]) for check in checks)]

    def customer_of(self, po: PortOut) -> Customer | None:
        return self.customers.get(po.customer_reference)

    # ------------------------------------------------------------------ writes

    def adopt(self, po: PortOut, now: float) -> None:
        """Make sure every number `po` names is the account's: unknown ones join with no
        customer reference, bought a year before `now`."""
        bought = min(now, po.created_ts) - 365 * 86400.0
        country = "CA" if po.country_code == "CA" else "US"
        for e164 in po.phone_numbers:
            if e164 not in self.numbers:
                self.add_unowned(e164, bought, connection_id=None, country=country)

    def follow(self, po: PortOut, at: float, holders: Iterable[PortOut] = ()) -> None:
        """Give `po`'s numbers the status its status implies; `holders` are the other
        port-outs naming those numbers (an open one keeps a number port-out-pending)."""
        status = _status_for(po, holders)
        for e164 in po.phone_numbers:
            number = self.numbers.get(e164)
            if number is None or number.status == status or number.status == "ported-out":
                continue
            number.status = status
            number.updated_ts = at
            number.json_cache = None

    def pin_refused(self, po: PortOut) -> bool:
        """True when a number of `po` has a port-out PIN and the attempted one differs."""
        for e164 in po.phone_numbers:
            number = self.numbers.get(e164)
            pin = None if number is None else number.external_pin
            if pin and pin != po.attempted_pin:
                return True
        return False

    def pin_matched(self, po: PortOut) -> bool:
        """True when `po`'s numbers are PIN-protected and the attempted PIN is theirs."""
        pins = {self.numbers[n].external_pin for n in po.phone_numbers if n in self.numbers}
        return pins == {po.attempted_pin}


def _status_for(po: PortOut, holders: Iterable[PortOut]) -> str:
    if po.status == "ported":
        return "ported-out"
    if po.status in OPEN_STATUSES or any(h.status in OPEN_STATUSES for h in holders if h is not po):
        return "port-out-pending"
    return "active"


def _checks(flt: NumberFilter) -> list[Callable[[PhoneNumber], bool]]:
    checks: list[Callable[[PhoneNumber], bool]] = []
    if flt.phone_number is not None:
        digits = flt.phone_number
        checks.append(lambda n: digits in n.phone_number)
    if flt.customer_reference is not None:
        ref = flt.customer_reference
        checks.append(lambda n: n.customer_reference == ref)
    if flt.tag is not None:
        tag = flt.tag
        checks.append(lambda n: tag in n.tags)
    if flt.status is not None:
        status = flt.status
        checks.append(lambda n: n.status == status)
    if flt.source is not None:
        source = flt.source
        checks.append(lambda n: n.source == source)
    return checks


PHONE_NUMBER_FILTERS = (
    "filter[phone_number]",
    "filter[customer_reference]",
    "filter[tag]",
    "filter[status]",
    "filter[source]",
)


def number_filter(query: Query) -> NumberFilter:
    """GET /phone_numbers' filters from the query string (422 for an unknown or bad one)."""
    query.check_filters(PHONE_NUMBER_FILTERS)
    return NumberFilter(
        phone_number=phone_number_filter(query.get("filter[phone_number]")),
        customer_reference=query.get("filter[customer_reference]"),
        tag=query.get("filter[tag]"),
        status=query.get_enum("filter[status]", NUMBER_STATUSES_FILTERABLE),
        source=query.get_enum("filter[source]", NUMBER_SOURCES),
    )


def phone_number_filter(digits_or_none: str | None) -> str | None:
    """`filter[phone_number]` as digits: a leading '+' is dropped; fewer than three digits
    is a 422; any other non-digit matches nothing (Telnyx: "no values are returned")."""
    if digits_or_none is None:
        return None
    value = digits_or_none.strip().removeprefix("+")
    if re.search(r"\D", value):
        return "\x00"  # matches no number
    if len(value) < 3:
        raise SandboxError(
            "10016",
            "filter[phone_number] needs at least three digits.",
            parameter="filter[phone_number]",
        )
    return value
