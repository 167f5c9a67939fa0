"""The evidence cases a reviewer must tell apart, seeded beside the random port-outs.

Each is a customer with numbers and one or more port-outs, so the demo shows every flag:

- `legitimate`: the right PIN on PIN-protected numbers, names and address as on record.
- `wrong PIN repeated`: three attempts from one carrier with wrong PINs on the same
  numbers, each refused by Telnyx at once (rejected, code 1002), then a fourth, pending,
  with the right PIN.
- `new SPID, all numbers`: a carrier and SPID this account has never seen asking for every
  number of a 14-number customer.
- `name mismatch`: end user, authorized name and address that are not the customer's.
- `expected port`: a customer whose notes say they are leaving for the carrier that asks.
- `no customer record`: numbers of the account with no customer reference.
- `bounced back`: a rejection Porting Ops found invalid, back to pending with its comment.
- `bounces at review`: rejected "Invalid PIN" although the PIN was right; Porting Ops
  sends it back to pending when the review delay passes.
"""

from __future__ import annotations

from typing import Protocol

from .customers import CustomerBook, dress
from .entities import REJECTION_CATALOG, Comment, Event, PortOut, PortoutHistory
from .numbers import Customer
from .vocabulary import D, Gen, H, person

__all__ = ["BOUNCE_COMMENT", "NEW_CARRIER", "SCENARIO_COUNT", "Builder", "scenario_histories"]

SCENARIO_COUNT = 11
#: a gaining carrier and SPID no other seeded port-out uses
NEW_CARRIER = ("Lattice Mobile", "7Q3B")
BOUNCE_COMMENT = (
    "Porting Ops reviewed the rejection and found the reason invalid; the port-out is "
    "pending again. Please review it."
)


class Builder(Protocol):
    """What seeding lends the scenarios (seed.py builds port-outs and their events)."""

    def portout(self, created: float, country: str) -> PortOut: ...

    def events(self, po: PortOut, history: list[tuple[float, str]]) -> list[Event]: ...

    def wrong_pin(self, pin: str) -> str: ...


def scenario_histories(
    g: Gen, book: CustomerBook, now: float, window: float, build: Builder
) -> list[PortoutHistory]:
    """The scenarios' port-outs with their histories (SCENARIO_COUNT of them)."""
    histories: list[PortoutHistory] = []

    def pending(po: PortOut, history: list[tuple[float, str]] | None = None) -> None:
        po.status = "pending"
        po.authorize_ts = (history[-1][0] if history else po.created_ts) + window
        po.updated_ts = history[-1][0] if history else po.created_ts
        events = build.events(po, history or [])
        histories.append(PortoutHistory(po, events, [], [], po.authorize_ts))
        book.settle(po)

    def left(hours: float) -> float:
        """The creation time that leaves `hours` of the window (at most 90 % of it)."""
        return now - window + min(hours * H, 0.9 * window)

    legit = book.new_customer(country="US", size=2, pin=True)
    po = _portout(g, build, book, legit, left(17), ("T-Mobile", "6529"))
    pending(po)

    histories += _wrong_pins(g, build, book, now)
    repeated = histories[-1].portout
    again = book.inventory.customers[repeated.customer_reference]
    po = _portout(g, build, book, again, left(21), count=len(repeated.phone_numbers))
    po.carrier_name, po.spid, po.pon = repeated.carrier_name, repeated.spid, repeated.pon + "R"
    pending(po)

    everything = book.new_customer(country="US", size=14, pin=False)
    pending(_portout(g, build, book, everything, left(22), NEW_CARRIER, count=14))

    stranger = book.new_customer(country="US", size=3, pin=False)
    po = _portout(g, build, book, stranger, left(12), ("Verizon Wireless", "6006"), count=1)
    po.end_user_name, po.authorized_name = person(g), person(g)
    po.service_address = f"{g.int(100, 999)} Harbor View Rd"
    pending(po)

    leaving = book.new_customer(country="US", size=5, pin=False)
    leaving.notes = (
        "Churn ticket CH-2291: moving all lines to Comcast Business at the end of the "
        "contract; expect their port-out."
    )
    pending(_portout(g, build, book, leaving, left(9), ("Comcast Business", "7510"), count=5))

    po = build.portout(left(15), "US")
    po.phone_numbers = book.orphan_numbers(2, po.created_ts - 200 * D)
    po.customer_reference = ""
    pending(po)

    histories += _bounced(g, build, book, now, window)
    return histories


def _portout(
    g: Gen,
    build: Builder,
    book: CustomerBook,
    customer: Customer,
    created: float,
    carrier: tuple[str, str] | None = None,
    count: int = 2,
) -> PortOut:
    po = build.portout(created, customer.country)
    dress(po, customer, book.take(customer, "pending", count) or customer.numbers[:count], g)
    po.end_user_name = customer.name
    if carrier is not None:
        po.carrier_name, po.spid = carrier
    return po


def _wrong_pins(g: Gen, build: Builder, book: CustomerBook, now: float) -> list[PortoutHistory]:
    """Three attempts with wrong PINs on the same numbers, each refused by Telnyx."""
    customer = book.new_customer(country="US", size=3, pin=True)
    numbers = book.take(customer, "rejected", 3)
    histories = []
    for days in (4.2, 2.1, 0.9):
        po = build.portout(now - days * D, "US")
        dress(po, customer, numbers, g)
        po.carrier_name, po.spid = "AT&T Mobility", "6214"
        po.attempted_pin = build.wrong_pin(customer.pin or "0000")
        po.status, po.rejection_code = "rejected", 1002
        po.reason = REJECTION_CATALOG[1002][0]
        history = [(po.created_ts + 0.001, "rejected")]
        po.updated_ts = history[-1][0]
        histories.append(PortoutHistory(po, build.events(po, history), [], [], None))
        book.settle(po)
    return histories


def _bounced(
    g: Gen, build: Builder, book: CustomerBook, now: float, window: float
) -> list[PortoutHistory]:
    """One rejection already sent back to pending, one that will be at review."""
    back = book.new_customer(country="US", size=2, pin=False)
    po = _portout(g, build, book, back, now - window - 6 * H)
    po.status = "pending"
    sent, returned = po.created_ts + 3 * H, po.created_ts + 8 * H
    po.rejection_code, po.reason = 1004, REJECTION_CATALOG[1004][0]
    events = build.events(po, [(sent, "rejected-pending"), (returned, "pending")])
    po.rejection_code = po.reason = None
    comment = Comment(g.uuid(), po.id, BOUNCE_COMMENT, None, returned + 1)
    events.append(
        Event(
            g.uuid(),
            "portout.new_comment",
            po.id,
            comment.created_ts,
            comment_id=comment.id,
            comment_body=BOUNCE_COMMENT,
            comment_user_id=None,
        )
    )
    po.updated_ts = comment.created_ts
    po.authorize_ts = returned + window
    book.settle(po)
    histories = [PortoutHistory(po, events, [comment], [], po.authorize_ts)]

    protected = book.new_customer(country="US", size=1, pin=True)
    po = _portout(g, build, book, protected, now - 5 * H, count=1)
    po.status, po.rejection_code = "rejected-pending", 1002
    po.reason = REJECTION_CATALOG[1002][0]
    history = [(now - 10 * 60, "rejected-pending")]
    po.updated_ts = history[-1][0]
    book.settle(po)
    histories.append(PortoutHistory(po, build.events(po, history), [], [], now + 5 * 60))
    return histories
