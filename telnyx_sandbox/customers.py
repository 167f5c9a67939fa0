"""Customers of the account and their numbers, and which numbers a port-out asks for.

Seeding makes customers as it makes port-outs (`CustomerBook`): a port-out either asks
for numbers of a customer seen before (earlier attempts on the same numbers) or of a new
one, for one number, a few or all of them, with the customer's name and address (often
written differently, as a gaining carrier types it). A number that has ported out is in
no later port-out; a number held by an open port-out is in no other open one. Extra
customers own numbers no port-out names. Customers own 1 to 40 numbers, some many.

The same seed gives the same customers whatever the clock says, so `write_customers_csv`
run before the demo matches the sandbox the demo then starts.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .entities import PortOut
from .numbers import OPEN_STATUSES, Customer, Inventory, PhoneNumber
from .vocabulary import (
    BUSINESS_KINDS,
    BUSINESS_SUFFIX,
    BUSINESS_WORDS,
    CA_LOCATIONS,
    STREET_KINDS,
    STREETS,
    US_LOCATIONS,
    D,
    Gen,
    person,
    postal,
)

__all__ = ["CSV_COLUMNS", "CustomerBook", "dress", "dress_new_portout", "write_customers_csv"]

CSV_COLUMNS = (
    "account_number",
    "name",
    "service_address",
    "city",
    "state",
    "zip",
    "contact_email",
    "contact_phone",
    "customer_reference",
    "notes",
)
CONNECTIONS = ("1494404757140276705", "1494404757140276706", "1684641123236054244")
CUSTOMER_TAGS = (("smb",), ("smb",), ("enterprise",), ("residential",), ("reseller",))
NUMBER_TAGS = ("fax", "support", "sales", "after-hours")
#: shared tag tuples, one per (customer tags, number tag): 500,000 numbers, few tuples
_TAGS: dict[tuple[tuple[str, ...], str | None], tuple[str, ...]] = {
    (tags, extra): (*tags, extra) if extra else tags
    for tags in set(CUSTOMER_TAGS)
    for extra in (None, "main-line", *NUMBER_TAGS)
}
NOTES = (
    "",
    "",
    "",
    "",
    "VIP account: call the contact before any port decision.",
    "Contract renews every January.",
    "Billing number is the main line.",
)


class CustomerBook:
    """Customers and their numbers, and which of them are still free to be asked for."""

    def __init__(self, g: Gen, inventory: Inventory, now: float) -> None:
        self.g = g
        self.inventory = inventory
        self.now = now
        self.everyone: list[Customer] = []
        #: reference -> numbers never in a port-out / numbers only in ended port-outs
        self._fresh: dict[str, list[str]] = {}
        self._used: dict[str, list[str]] = {}

    def new_customer(
        self,
        *,
        country: str | None = None,
        size: int | None = None,
        pin: bool | None = None,
        notes: str | None = None,
    ) -> Customer:
        g = self.g
        country = country or ("CA" if g.r() < 0.18 else "US")
        city, region, prefix, area_codes = g.pick(CA_LOCATIONS if country == "CA" else US_LOCATIONS)
        business = g.r() < 0.55
        name = (
            f"{g.pick(BUSINESS_WORDS)} {g.pick(BUSINESS_KINDS)} {g.pick(BUSINESS_SUFFIX)}".strip()
            if business
            else person(g)
        )
        contact = person(g) if business or g.r() < 0.3 else name
        n = len(self.everyone) + 1
        has_pin = country == "US" and (g.r() < 0.25 if pin is None else pin)
        customer = Customer(
            reference=f"CUST-{n:05d}",
            account_number=f"{g.int(1000, 9999)}-{g.int(100000, 999999)}",
            name=name,
            contact_name=contact,
            service_address=f"{g.int(1, 9899)} {g.pick(STREETS)} {g.pick(STREET_KINDS)}",
            city=city,
            state=region,
            zip=postal(g, country, prefix),
            country=country,
            contact_email=_email(name, contact, business),
            contact_phone=f"+1{g.pick(area_codes)}{g.int(2000000, 9999999)}",
            area_codes=area_codes,
            pin=f"{g.int(0, 9999):04d}" if has_pin else None,
            notes=g.pick(NOTES) if notes is None else notes,
        )
        self._add_numbers(customer, size or _size(g))
        self.everyone.append(customer)
        self.inventory.add_customer(customer)
        return customer

    def _add_numbers(self, customer: Customer, size: int) -> None:
        g, inventory = self.g, self.inventory
        source = "ported" if g.r() < 0.3 else "purchased"
        recent = g.r() < 0.1
        bought = self.now - (g.between(3, 85) if recent else g.between(90, 3000)) * D
        connection = None if g.r() < 0.05 else g.pick(CONNECTIONS)
        tags = g.pick(CUSTOMER_TAGS)
        lock = g.r() < 0.1
        numbers = _block(g, customer.area_codes, size, inventory.numbers)
        main, plain = _TAGS[(tags, "main-line")], _TAGS[(tags, None)]
        for i, e164 in enumerate(numbers):
            labels = (
                main if i == 0 else _TAGS[(tags, g.pick(NUMBER_TAGS))] if g.r() < 0.3 else plain
            )
            number = PhoneNumber(
                id=inventory.next_id(),
                phone_number=e164,
                customer_reference=customer.reference,
                tags=labels,
                source=source,
                purchased_ts=bought + i * 60.0,
                updated_ts=bought + i * 60.0,
                connection_id=connection,
                country=customer.country,
                external_pin=customer.pin,
                deletion_lock=lock,
            )
            inventory.add(number, bulk=True)
        customer.numbers = numbers
        self._fresh[customer.reference] = list(numbers)
        self._used[customer.reference] = []

    def orphan_numbers(self, size: int, bought: float) -> list[str]:
        """`size` numbers of the account with no customer reference (no customer record)."""
        g, inventory = self.g, self.inventory
        numbers = _block(g, g.pick(US_LOCATIONS)[3], size, inventory.numbers)
        for e164 in numbers:
            inventory.add_unowned(e164, bought, connection_id=CONNECTIONS[0], bulk=True)
        return numbers

    # ------------------------------------------------------------------ port-outs

    def numbers_for(self, status: str, *, reuse: float = 0.55) -> tuple[Customer, list[str]]:
        """A customer and the numbers a new port-out in `status` asks for (then `settle`)."""
        g = self.g
        if self.everyone and g.r() < reuse:
            for _ in range(3):
                customer = g.pick(self.everyone)
                picked = self.take(customer, status)
                if picked:
                    return customer, picked
        customer = self.new_customer()
        return customer, self.take(customer, status)

    def take(self, customer: Customer, status: str, count: int | None = None) -> list[str]:
        """Up to `count` (default: random, sometimes all) free numbers of `customer`; a
        port-out that ports takes only numbers never asked for before."""
        g = self.g
        fresh, used = self._fresh[customer.reference], self._used[customer.reference]
        pool = fresh if status == "ported" else fresh + used
        if not pool:
            return []
        if count is None:
            r = g.r()
            count = 1 if r < 0.6 else g.int(2, 5) if r < 0.85 else len(pool)
        picked = sorted(pool[: min(count, len(pool))])
        taken = set(picked)
        self._fresh[customer.reference] = [n for n in fresh if n not in taken]
        self._used[customer.reference] = [n for n in used if n not in taken]
        return picked

    def settle(self, po: PortOut) -> None:
        """Record what `po` did to its numbers: held, ported out, or free again."""
        numbers = self.inventory.numbers
        if po.status in OPEN_STATUSES:
            for e164 in po.phone_numbers:
                _set_status(numbers[e164], "port-out-pending", po.updated_ts)
        elif po.status == "ported":
            for e164 in po.phone_numbers:
                _set_status(numbers[e164], "ported-out", po.ported_out_ts or po.updated_ts)
        elif po.customer_reference in self._used:
            self._used[po.customer_reference].extend(po.phone_numbers)
        for e164 in po.phone_numbers:
            number = numbers[e164]
            number.purchased_ts = min(number.purchased_ts, po.created_ts - 30 * D)

    def finish(self, extra: int) -> None:
        """Add `extra` customers no port-out asks for, then sort the inventory."""
        for _ in range(extra):
            self.new_customer()
        self.inventory.finish_bulk()


def dress(
    po: PortOut, customer: Customer, numbers: list[str], g: Gen, keep: Iterable[str] = ()
) -> None:
    """Give `po` the customer's numbers, name and address as a gaining carrier sends them
    (the name often typed differently); fields in `keep` were set by the caller."""
    kept = set(keep)
    values: dict[str, Any] = {
        "phone_numbers": numbers,
        "customer_reference": customer.reference,
        "end_user_name": customer.name if g.r() < 0.7 else name_variant(customer.name, g),
        "authorized_name": customer.contact_name,
        "service_address": customer.service_address,
        "city": customer.city,
        "state": customer.state,
        "zip": customer.zip,
        "country_code": customer.country,
    }
    if customer.pin is not None:
        values["attempted_pin"] = customer.pin
    for name, value in values.items():
        if name not in kept:
            setattr(po, name, value)


def dress_new_portout(
    inventory: Inventory, po: PortOut, rng: random.Random | None, keep: Iterable[str]
) -> None:
    """Dress a port-out created at run time as its customer's: with the numbers given
    (`phone_numbers` in `keep`), their one owner if they have one; otherwise free numbers
    of a known customer (or the random ones, with no customer, when none is free)."""
    g = Gen(rng or random.Random())
    kept = set(keep)
    if "phone_numbers" in kept:
        owner = inventory.owner(po.phone_numbers)
        if owner is not None:
            dress(po, owner, po.phone_numbers, g, kept)
        return
    customers = list(inventory.customers.values())
    for _ in range(min(50, len(customers))):
        customer = g.pick(customers)
        pool = [n for n in customer.numbers if inventory.numbers[n].status == "active"]
        if pool:
            r = g.r()
            count = 1 if r < 0.6 else g.int(2, 5) if r < 0.85 else len(pool)
            dress(po, customer, sorted(pool[:count]), g, kept)
            return


def name_variant(name: str, g: Gen) -> str:
    """The same name as another system writes it: case, punctuation, suffix style."""
    r = g.r()
    if r < 0.35:
        return name.upper()
    if r < 0.7:
        return name.replace(".", "").replace(",", "")
    if name.endswith((" LLC", " Inc.", " Co.", " Ltd.")):
        head, suffix = name.rsplit(" ", 1)
        return f"{head}, {suffix.rstrip('.')}"
    return name.title()


def write_customers_csv(customers: Iterable[Customer], path: str | Path) -> int:
    """Write the customers file the dashboard's demo imports; returns the row count."""
    rows = [c.csv_row() for c in customers]
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return len(rows)


def _set_status(number: PhoneNumber, status: str, at: float) -> None:
    number.status = status
    number.updated_ts = max(number.updated_ts, at)


def _size(g: Gen) -> int:
    r = g.r()
    if r < 0.45:
        return g.int(1, 2)
    if r < 0.75:
        return g.int(3, 8)
    if r < 0.93:
        return g.int(9, 20)
    return g.int(21, 40)


def _block(g: Gen, area_codes: tuple[str, ...], size: int, taken: dict[str, Any]) -> list[str]:
    """`size` unused numbers in one exchange of the customer's area codes."""
    while True:
        npa = g.pick(area_codes)
        nxx = g.int(201, 998)
        if nxx % 100 == 11 or nxx == 555:
            continue
        start = g.int(0, 9999 - size)
        numbers = [f"+1{npa}{nxx}{line:04d}" for line in range(start, start + size)]
        if not any(n in taken for n in numbers):
            return numbers


def _email(name: str, contact: str, business: bool) -> str:
    def slug(text: str) -> str:
        return "".join(c for c in text.lower() if c.isalnum() or c == " ").strip()

    if business:
        words = slug(name).split()
        if words[-1] in ("llc", "inc", "co", "ltd", "group") and len(words) > 1:
            words = words[:-1]
        return f"{slug(contact).replace(' ', '.')}@{'-'.join(words)}.example"
    return f"{slug(contact).replace(' ', '.')}@mail.example"
