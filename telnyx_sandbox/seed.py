"""Realistic port-out data from a fixed random seed.

US and Canadian numbers in E.164, real-looking gaining carriers with SPIDs, PONs,
`PO_` support keys, FOC dates around today, pending orders mostly from the last 48 h
(some overdue), comments by Telnyx staff, our team and the gaining carrier, supporting
documents backed by downloadable PDFs and an event for every change in each history. The
SPIDs are sample values in the style of NPAC SPIDs, not an authoritative registry.

Seeding is plain attribute work with one `random.Random`: 100,000 port-outs load in a
few seconds. Documents render their PDF bytes lazily on first access.

It builds records (entities) only, from the vocabulary of `vocabulary.py` and the port-outs
of `newports.py`: `seed_state` hands each port-out's history to the state's bulk `load`
through the `SeedTarget` protocol, so seeding imports nothing of the state, and the state
nothing of seeding.
"""

from __future__ import annotations

import gc
import itertools
import random
from collections.abc import Iterable
from typing import Any, Protocol

from .customers import CustomerBook, dress
from .entities import (
    CARRIER_USER_ID,
    REJECTION_CATALOG,
    Comment,
    Document,
    Event,
    PortOut,
    PortoutHistory,
    SupportingDocument,
    iso,
)
from .newports import base_portout
from .numbers import Inventory
from .pdf import simple_pdf
from .scenarios import SCENARIO_COUNT, scenario_histories
from .vocabulary import (
    CARRIER_COMMENTS,
    REASONS,
    STAFF_COMMENTS,
    USER_COMMENTS,
    D,
    Gen,
    H,
)

__all__ = [
    "pending_created",
    "seed_state",
    "status_events",
    "wrong_pin",
]

STATUS_WEIGHTS = (
    ("pending", 38),
    ("authorized", 14),
    ("ported", 22),
    ("rejected-pending", 5),
    ("rejected", 8),
    ("canceled", 13),
)
_STATUS_POPULATION = [s for s, _ in STATUS_WEIGHTS]
_STATUS_CUM = list(itertools.accumulate(w for _, w in STATUS_WEIGHTS))
STATUS_CHANGED, NEW_COMMENT, FOC_CHANGED = (
    "portout.status_changed",
    "portout.new_comment",
    "portout.foc_date_changed",
)


def _rejection(g: Gen, po: PortOut) -> tuple[int, str]:
    code = g.pick(po.rejection_codes)
    texts = REASONS.get(code)
    reason = g.pick(texts) if texts else REJECTION_CATALOG[code][0]
    return code, reason


def _document_render(kind: str, po: PortOut) -> Any:
    def render() -> bytes:
        title = "Letter of Authorization" if kind == "loa" else "Invoice"
        lines = [
            f"Port-out {po.support_key} / PON {po.pon}",
            f"End user: {po.end_user_name}",
            f"Authorized by: {po.authorized_name}",
            f"Service address: {po.service_address}, {po.city}, {po.state} {po.zip}",
            f"Gaining carrier: {po.carrier_name} (SPID {po.spid})",
            "Numbers:",
            *[f"  {n}" for n in po.phone_numbers],
        ]
        return simple_pdf(title, lines)

    return render


def lsr_pdf(po: PortOut) -> bytes:
    """The Local Service Request the gaining carrier sent, as served from /files/lsr/."""
    lines = [
        f"PON: {po.pon}",
        f"Gaining carrier: {po.carrier_name} (SPID {po.spid})",
        f"End user: {po.end_user_name}",
        f"Authorized name: {po.authorized_name}",
        f"Service address: {po.service_address}, {po.city}, {po.state} {po.zip}",
        f"Requested FOC: {iso(po.requested_foc_ts)}",
        f"Telephone numbers ({len(po.phone_numbers)}):",
        *[f"  {n}" for n in po.phone_numbers],
    ]
    return simple_pdf("Local Service Request", lines)


class SeedTarget(Protocol):
    """What seeding needs of the state (SandboxState), named here so that this module
    imports only the entities."""

    reject_delay: float
    authorize_after: float

    def clear(self) -> None: ...

    def now(self) -> float: ...

    def next_support_key(self) -> str: ...

    def load(self, histories: Iterable[PortoutHistory], inventory: Inventory) -> None: ...


#: below this many port-outs the evidence scenarios are left out (they take 11)
SCENARIO_MINIMUM = 30


def seed_state(state: SeedTarget, count: int, seed: int = 1) -> None:
    """Replace the state's data with `count` port-outs, their full history and the
    customers and numbers they name (the evidence scenarios among them, from 30 on).

    The cyclic GC is paused while loading (hundreds of thousands of small objects would
    trigger repeated full collections) and large loads are frozen out of later scans."""
    g = Gen(random.Random(seed))
    state.clear()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        now = state.now()
        inventory = Inventory()
        book = CustomerBook(g, inventory, now)
        window = state.authorize_after
        with_scenarios = count >= SCENARIO_MINIMUM
        random_count = count - SCENARIO_COUNT if with_scenarios else count
        histories = [
            _seed_one(g, book, now, state.next_support_key(), state.reject_delay, window)
            for _ in range(random_count)
        ]
        if with_scenarios:
            histories += scenario_histories(g, book, now, window, _Builder(g, state))
        book.finish(extra=count // 10 + 5)
        state.load(histories, inventory)
    finally:
        if was_enabled:
            gc.enable()
    if count >= 10_000:
        gc.freeze()


def _status(g: Gen) -> str:
    r = g.r() * _STATUS_CUM[-1]
    for status, bound in zip(_STATUS_POPULATION, _STATUS_CUM, strict=True):
        if r < bound:
            return status
    return _STATUS_POPULATION[-1]


def pending_created(g: Gen, now: float, window: float) -> tuple[float, float]:
    """(created, authorize_at) of a pending port-out: a few due within 4 h, most in their
    window, a few past it. Telnyx answers within 24-48 h; those past the account's window
    are the ones on the longer end, authorized by Telnyx within the next hours."""
    r = g.r()
    if r < 0.12:
        left = min(g.between(0.25, 4) * H, 0.9 * window)
    elif r < 0.88:
        left = g.between(min(4 * H, 0.5 * window), 0.97 * window)
    else:
        created = now - window - g.between(0.5, 20) * H
        return created, now + g.between(0.25, 6) * H
    created = now - (window - left)
    return created, created + window


def _timeline(
    g: Gen, status: str, now: float, window: float
) -> tuple[float, float, list[tuple[float, str]], float | None]:
    """(created, foc, [(time, status) after creation], ported_out) of a port-out that has
    reached `status` by `now`."""
    between = g.between
    history: list[tuple[float, str]] = []
    ported_out: float | None = None
    if status == "pending":
        created, _ = pending_created(g, now, window)
        foc = max(created + between(3, 10) * D, now + between(1, 6) * D)
    elif status == "authorized":
        created = now - between(2, 14) * D
        history.append((created + between(1, 40) * H, "authorized"))
        foc = now + between(0.5, 8) * D
    elif status == "ported":
        created = now - between(5, 45) * D
        decided = created + between(1, 40) * H
        foc = decided + between(1, min(8.0, (now - decided) / D - 0.1)) * D
        history += [(decided, "authorized"), (foc, "ported")]
        ported_out = foc
    elif status == "rejected-pending":
        created = now - between(2, 60) * H
        history.append((created + (now - created) * between(0.3, 0.95), "rejected-pending"))
        foc = created + between(3, 10) * D
    elif status == "rejected":
        created = now - between(3, 40) * D
        sent = created + between(1, 40) * H
        history += [(sent, "rejected-pending"), (sent + between(0.5, 6) * H, "rejected")]
        foc = created + between(3, 10) * D
    else:  # canceled
        created = now - between(2, 40) * D
        at = created + between(6, 90) * H
        if g.r() < 0.4:
            history.append((created + between(1, 5) * H, "authorized"))
            at = max(at, history[-1][0] + H)
        history.append((at, "canceled"))
        foc = created + between(3, 10) * D
    return created, foc, history, ported_out


def _seed_one(
    g: Gen, book: CustomerBook, now: float, support_key: str, reject_delay: float, window: float
) -> PortoutHistory:
    status = _status(g)
    created, foc, history, ported_out = _timeline(g, status, now, window)
    customer, numbers = book.numbers_for(status)
    po = base_portout(g, created, customer.country, support_key)
    dress(po, customer, numbers, g)
    pid = po.id
    po.status = status
    po.foc_ts = po.requested_foc_ts = foc
    po.ported_out_ts = ported_out
    if status == "rejected" and customer.pin is not None and g.r() < 0.5:
        # Telnyx refused a wrong PIN on its own, at once
        po.attempted_pin = wrong_pin(g, customer.pin)
        po.rejection_code, po.reason = 1002, REJECTION_CATALOG[1002][0]
        history = [(created + 0.001, "rejected")]
    elif status in ("rejected-pending", "rejected"):
        po.rejection_code, po.reason = _rejection(g, po)
    elif status in ("authorized", "ported"):
        if g.r() < 0.3:
            po.reason = "Verified with the account owner."
        po.host_messaging = g.r() < 0.15
    po.updated_ts = history[-1][0] if history else created
    if status == "pending":
        po.authorize_ts = max(created + window, now + 0.25 * H)

    events = status_events(g, po, history)
    if status in ("pending", "authorized", "rejected-pending") and g.r() < 0.15:
        at = g.between(created, now)
        if status == "authorized":
            po.requested_foc_ts = foc - g.between(1, 3) * D
        else:
            po.foc_ts = foc + g.between(1, 3) * D
        events.append(Event(g.uuid(), FOC_CHANGED, pid, at, foc_ts=po.foc_ts))
        po.updated_ts = max(po.updated_ts, at)
    comments = _comments(g, po, now, events) if g.r() < 0.4 else []
    documents = _documents(g, po, now) if g.r() < 0.12 else []
    book.settle(po)
    due: float | None = None
    if status == "authorized":
        due = po.foc_ts
    elif status == "rejected-pending":
        due = now + g.between(0.1, 1.0) * reject_delay
    elif status == "pending":
        due = po.authorize_ts
    return PortoutHistory(po, events, comments, documents, due)


class _Builder:
    """Port-outs and events for the scenarios (scenarios.Builder)."""

    def __init__(self, g: Gen, state: SeedTarget) -> None:
        self.g = g
        self.state = state

    def portout(self, created: float, country: str) -> PortOut:
        return base_portout(self.g, created, country, self.state.next_support_key())

    def events(self, po: PortOut, history: list[tuple[float, str]]) -> list[Event]:
        return status_events(self.g, po, history)

    def wrong_pin(self, pin: str) -> str:
        return wrong_pin(self.g, pin)


def status_events(g: Gen, po: PortOut, history: list[tuple[float, str]]) -> list[Event]:
    """The creation event and one status event per step of `history`."""
    events = [Event(g.uuid(), STATUS_CHANGED, po.id, po.created_ts, "pending")]
    for at, new_status in history:
        reason = po.reason if new_status in ("rejected-pending", "rejected") else None
        events.append(Event(g.uuid(), STATUS_CHANGED, po.id, at, new_status, reason))
    return events


def wrong_pin(g: Gen, pin: str) -> str:
    """A PIN that is not `pin`."""
    guess = f"{g.int(0, 9999):04d}"
    return guess if guess != pin else f"{(int(pin) + 1) % 10000:04d}"


def _comments(g: Gen, po: PortOut, now: float, events: list[Event]) -> list[Comment]:
    """1 to 4 comments since creation, each with its event in `events`: half by Telnyx staff
    (no user), the rest by our team (the port-out's user) or, one in three, the gaining
    carrier (another user)."""
    comments: list[Comment] = []
    for _ in range(g.int(1, 4)):
        at = g.between(po.created_ts, now)
        staff = g.r() < 0.5
        carrier = not staff and g.r() < 1 / 3
        user = None if staff else CARRIER_USER_ID if carrier else po.user_id
        body = g.pick(STAFF_COMMENTS if staff else CARRIER_COMMENTS if carrier else USER_COMMENTS)
        comment = Comment(g.uuid(), po.id, body, user, at)
        comments.append(comment)
        events.append(
            Event(
                g.uuid(),
                NEW_COMMENT,
                po.id,
                at,
                comment_id=comment.id,
                comment_body=body,
                comment_user_id=user,
            )
        )
    return comments


def _documents(g: Gen, po: PortOut, now: float) -> list[tuple[SupportingDocument, Document]]:
    """An LOA, sometimes with an invoice, attached since creation (PDFs rendered lazily)."""
    attached: list[tuple[SupportingDocument, Document]] = []
    for kind in ("loa", "invoice")[: g.int(1, 2)]:
        at = g.between(po.created_ts, now)
        doc = Document(
            id=g.uuid(),
            filename=f"{kind}-{po.support_key}.pdf",
            content_type="application/pdf",
            created_ts=at,
            status="verified",
            render=_document_render(kind, po),
        )
        attached.append((SupportingDocument(g.uuid(), po.id, kind, doc.id, at), doc))
    return attached
