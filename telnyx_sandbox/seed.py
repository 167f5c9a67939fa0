"""Realistic port-out data from a fixed random seed.

US and Canadian numbers in E.164, real-looking gaining carriers with SPIDs, PONs,
`PO_` support keys, FOC dates around today, pending orders mostly from the last 48 h
(some overdue), comments from both sides, supporting documents backed by downloadable
PDFs and an event for every change in each history. The SPIDs are sample values in the
style of NPAC SPIDs, not an authoritative registry.

Seeding is plain attribute work with one `random.Random`: 100,000 port-outs load in a
few seconds. Documents render their PDF bytes lazily on first access.

Most of its length is that sample vocabulary (names, places, carriers, comments), one
value a line. It builds records (entities) only: `seed_state` hands each port-out's
history to the state's bulk `load`, and the state calls `random_portout` for new
port-outs, so the state depends on seeding and not the other way round.
"""

from __future__ import annotations

import gc
import itertools
import random
from collections.abc import Iterable
from typing import Any, Protocol

from .entities import (
    REJECTION_CATALOG,
    STATUSES,
    Comment,
    Document,
    Event,
    PortOut,
    PortoutHistory,
    SupportingDocument,
    iso,
    normalize_number,
    to_ts,
)
from .pdf import simple_pdf

__all__ = ["random_portout", "seed_state"]

H = 3600.0
D = 86400.0

US_LOCATIONS = [
    ("Chicago", "IL", "606", ("312", "773", "872")),
    ("New York", "NY", "100", ("212", "646", "917")),
    ("Brooklyn", "NY", "112", ("718", "347")),
    ("Los Angeles", "CA", "900", ("213", "310", "323")),
    ("San Francisco", "CA", "941", ("415", "628")),
    ("Austin", "TX", "787", ("512", "737")),
    ("Dallas", "TX", "752", ("214", "469", "972")),
    ("Houston", "TX", "770", ("713", "281", "832")),
    ("Denver", "CO", "802", ("303", "720")),
    ("Seattle", "WA", "981", ("206",)),
    ("Atlanta", "GA", "303", ("404", "470", "678")),
    ("Miami", "FL", "331", ("305", "786")),
    ("Boston", "MA", "021", ("617", "857")),
    ("Phoenix", "AZ", "850", ("602", "480")),
    ("Portland", "OR", "972", ("503", "971")),
    ("Nashville", "TN", "372", ("615", "629")),
    ("Raleigh", "NC", "276", ("919", "984")),
    ("Minneapolis", "MN", "554", ("612",)),
]
CA_LOCATIONS = [
    ("Toronto", "ON", "M5V", ("416", "647", "437")),
    ("Ottawa", "ON", "K1P", ("613", "343")),
    ("Montreal", "QC", "H3B", ("514", "438")),
    ("Vancouver", "BC", "V6B", ("604", "778")),
    ("Calgary", "AB", "T2P", ("403", "587")),
    ("Edmonton", "AB", "T5J", ("780",)),
    ("Winnipeg", "MB", "R3C", ("204",)),
]
US_CARRIERS = [
    ("T-Mobile", "6529", "TMO"),
    ("Verizon Wireless", "6006", "VZW"),
    ("AT&T Mobility", "6214", "ATT"),
    ("Bandwidth.com", "979E", "BWC"),
    ("Lumen", "8826", "LMN"),
    ("Comcast Business", "7510", "CMB"),
]
CA_CARRIERS = [
    ("Rogers", "8821", "RGR"),
    ("Bell Canada", "8051", "BEL"),
    ("Telus", "8340", "TLS"),
    ("Videotron", "8860", "VDT"),
]
FIRST = [
    "James",
    "Mary",
    "Robert",
    "Patricia",
    "John",
    "Jennifer",
    "Michael",
    "Linda",
    "David",
    "Elizabeth",
    "William",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Charles",
    "Karen",
    "Daniel",
    "Nancy",
    "Matthew",
    "Lisa",
    "Anthony",
    "Betty",
    "Mark",
    "Sandra",
    "Priya",
    "Wei",
    "Mohammed",
    "Sofia",
    "Chloe",
    "Lucas",
    "Olivia",
    "Noah",
    "Emma",
    "Liam",
    "Amelie",
    "Etienne",
    "Isabelle",
    "Gabriel",
    "Mei",
    "Arjun",
    "Fatima",
    "Diego",
    "Ana",
    "Hiroshi",
]
LAST = [
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Perez",
    "Thompson",
    "White",
    "Harris",
    "Sanchez",
    "Clark",
    "Ramirez",
    "Lewis",
    "Robinson",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Tremblay",
    "Gagnon",
    "Roy",
    "Cote",
    "Bouchard",
    "Gauthier",
    "Morin",
    "Lavoie",
    "Fortin",
    "Nguyen",
    "Patel",
    "Chen",
    "Kim",
]
BUSINESS_WORDS = [
    "Acme",
    "Summit",
    "Harbor",
    "Pioneer",
    "Maple",
    "Cedar",
    "Granite",
    "Northstar",
    "Bluebird",
    "Lakeside",
    "Riverside",
    "Evergreen",
    "Keystone",
    "Liberty",
    "Beacon",
    "Sterling",
    "Redwood",
    "Prairie",
    "Coastal",
    "Horizon",
    "Union",
    "Metro",
]
BUSINESS_KINDS = (
    "Dental",
    "Plumbing",
    "Law Group",
    "Veterinary Clinic",
    "Realty",
    "Logistics",
    "Bakery",
    "Auto Repair",
    "Family Medicine",
    "Accounting",
    "Fitness",
    "Insurance Agency",
    "Hardware",
    "Roofing",
)
BUSINESS_SUFFIX = ("LLC", "Inc.", "Co.", "Ltd.", "Group", "")
STREETS = [
    "Main",
    "Oak",
    "Maple",
    "Cedar",
    "Pine",
    "Elm",
    "Washington",
    "Lake",
    "Hill",
    "Park",
    "Sunset",
    "Highland",
    "Church",
    "Mill",
    "River",
    "Spring",
    "Ridge",
    "Forest",
    "Market",
    "King",
    "Queen",
    "Wellington",
    "Yonge",
    "Bloor",
    "Sherbrooke",
]
STREET_KINDS = ("St", "Ave", "Blvd", "Rd", "Dr", "Ln", "Way", "Pl")
STAFF_COMMENTS = (
    "Gaining carrier confirmed the end user supplied the account PIN.",
    "Please review the attached LOA and authorize or reject within 24 hours.",
    "The gaining carrier has requested an earlier FOC date.",
    "Porting Ops reviewed the rejection reason and sent it back to the carrier.",
    "Reminder: this order will be auto-authorized if no decision is made.",
    "The carrier re-submitted the request with a corrected service address.",
    "We received a supplemental LSR from the gaining carrier.",
    "Customer service record was sent to the gaining carrier.",
)
USER_COMMENTS = (
    "Checking with the account owner before we authorize.",
    "The subscriber name on the LSR does not match our records.",
    "Customer confirmed they requested this port. OK to proceed.",
    "Account is under a port-out freeze until the contract ends.",
    "Can you share the LOA signed by the end user?",
    "These numbers belong to a sub-account; verifying with the reseller.",
    "Authorized after speaking with the customer.",
)
TEAM_USERS = (
    "3b5d1f2e-8c34-4c8e-9a51-6f0e2c9d7a10",
    "9f2c6a71-2d4b-4e0f-8b3a-1c7e5d9a4b22",
    "c41e8b09-7a6d-4f35-b2e8-0d9f3a6c5e31",
)
VENDORS = (
    "0e66ed3b-37e6-4fed-93d6-a30ce2493661",
    "5d8a3c21-94e7-4b1f-8c62-7e0a9f4d3b18",
)
REASONS = {
    1001: (
        "Customer says they did not request this port.",
        "Numbers are part of an active contract with early termination terms.",
        "End user is disputing ownership of the numbers.",
    ),
    1008: ("Only some of the account's numbers were included; partial ports are blocked.",),
}
EXTRA_CODES = tuple(c for c in REJECTION_CATALOG if c not in (1001, 1002))
CODE_SETS = [
    tuple(sorted((1001, 1002, *combo)))
    for r in range(len(EXTRA_CODES) + 1)
    for combo in itertools.combinations(EXTRA_CODES, r)
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

_default_rng = random.Random()


class _Gen:
    """Thin, fast wrappers over one `random.Random` (choice/randint are ~10x slower)."""

    __slots__ = ("_hex", "_pos", "bits", "r", "rng")

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.r = rng.random
        self.bits = rng.getrandbits
        self._hex = ""
        self._pos = 0

    def pick(self, seq: Any) -> Any:
        return seq[int(self.r() * len(seq))]

    def between(self, low: float, high: float) -> float:
        return low + (high - low) * self.r()

    def int(self, low: int, high: int) -> int:
        return low + int(self.r() * (high - low + 1))

    def uuid(self) -> str:
        """A random version-4 UUID string; random hex is drawn in 64 KiB batches."""
        o = self._pos
        if o >= len(self._hex):
            self._hex = self.rng.randbytes(16 * 2048).hex()
            o = 0
        self._pos = o + 32
        h = self._hex[o : o + 32]
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:]}"


_VARIANT = {c: "89ab"[int(c, 16) & 3] for c in "0123456789abcdef"}


def _person(g: _Gen) -> str:
    return f"{g.pick(FIRST)} {g.pick(LAST)}"


def _end_user(g: _Gen) -> str:
    if g.r() < 0.55:
        suffix = g.pick(BUSINESS_SUFFIX)
        name = f"{g.pick(BUSINESS_WORDS)} {g.pick(BUSINESS_KINDS)}"
        return f"{name} {suffix}".strip()
    return _person(g)


def _numbers(g: _Gen, area_codes: tuple[str, ...]) -> list[str]:
    r = g.r()
    if r < 0.70:
        count = 1
    elif r < 0.90:
        count = g.int(2, 5)
    elif r < 0.98:
        count = g.int(6, 20)
    else:
        count = g.int(21, 50)
    npa = g.pick(area_codes)
    nxx = g.int(201, 998)
    if nxx % 100 == 11 or nxx == 555:
        nxx += 1
    start = g.int(0, 9999 - count)
    return [f"+1{npa}{nxx}{line:04d}" for line in range(start, start + count)]


def _postal(g: _Gen, country: str, prefix: str) -> str:
    if country == "US":
        return f"{prefix}{g.int(0, 99):02d}"
    return f"{prefix} {g.int(1, 9)}{g.pick('ABCEGHJKLMNPRSTVWXYZ')}{g.int(1, 9)}"


def _base_portout(g: _Gen, created: float, country: str | None, support_key: str) -> PortOut:
    country = country or ("CA" if g.r() < 0.18 else "US")
    if country == "CA":
        city, region, prefix, area_codes = g.pick(CA_LOCATIONS)
        carrier, spid, pon_prefix = g.pick(CA_CARRIERS)
    else:
        city, region, prefix, area_codes = g.pick(US_LOCATIONS)
        carrier, spid, pon_prefix = g.pick(US_CARRIERS)
    requested = created + g.between(3, 10) * D
    return PortOut(
        g.uuid(),
        _numbers(g, area_codes),
        _person(g),
        carrier,
        spid,
        _end_user(g),
        city,
        region,
        _postal(g, country, prefix),
        f"{g.int(1, 9899)} {g.pick(STREETS)} {g.pick(STREET_KINDS)}",
        f"{pon_prefix}{g.int(10_000_000, 99_999_999)}",
        support_key,
        "pending",
        created,
        created,
        requested,
        requested,
        country_code=country,
        customer_reference=f"acct-{g.int(1000, 1299)}",
        vendor=g.pick(VENDORS),
        rejection_codes=g.pick(CODE_SETS),
        attempted_pin=f"{g.int(0, 9999):04d}",
    )


_ALIASES = {
    "created_at": "created_ts",
    "updated_at": "updated_ts",
    "foc_date": "foc_ts",
    "requested_foc_date": "requested_foc_ts",
    "ported_out_at": "ported_out_ts",
}


def random_portout(
    rng: random.Random | None,
    *,
    now: float,
    support_key: str,
    overrides: dict[str, Any] | None = None,
) -> PortOut:
    """A fresh port-out as the gaining carrier files it (status pending unless overridden).

    Overrides use PortOut field names; `created_at`, `foc_date`, `requested_foc_date` and
    `ported_out_at` are accepted as datetimes or ISO strings."""
    overrides = {_ALIASES.get(k, k): v for k, v in (overrides or {}).items()}
    country = overrides.pop("country_code", None)
    po = _base_portout(_Gen(rng or _default_rng), now, country, support_key)
    for name, value in overrides.items():
        if name not in PortOut.__dataclass_fields__ or name in ("json_cache", "version"):
            raise TypeError(f"unknown port-out field {name!r}")
        if name.endswith("_ts") and value is not None:
            value = to_ts(value, name)
        if name == "phone_numbers":
            value = [normalize_number(n) for n in value]
        setattr(po, name, value)
    if "created_ts" in overrides and "updated_ts" not in overrides:
        po.updated_ts = po.created_ts
    if "foc_ts" in overrides and "requested_foc_ts" not in overrides:
        po.requested_foc_ts = po.foc_ts
    if "status" in overrides and overrides["status"] not in STATUSES:
        raise ValueError(f"unknown status {overrides['status']!r}")
    return po


def _rejection(g: _Gen, po: PortOut) -> tuple[int, str]:
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

    def clear(self) -> None: ...

    def now(self) -> float: ...

    def next_support_key(self) -> str: ...

    def load(self, histories: Iterable[PortoutHistory]) -> None: ...


def seed_state(state: SeedTarget, count: int, seed: int = 1) -> None:
    """Replace the state's data with `count` port-outs and their full history.

    The cyclic GC is paused while loading (hundreds of thousands of small objects would
    trigger repeated full collections) and large loads are frozen out of later scans."""
    g = _Gen(random.Random(seed))
    state.clear()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        now = state.now()
        state.load(
            _seed_one(g, now, state.next_support_key(), state.reject_delay) for _ in range(count)
        )
    finally:
        if was_enabled:
            gc.enable()
    if count >= 10_000:
        gc.freeze()


def _status(g: _Gen) -> str:
    r = g.r() * _STATUS_CUM[-1]
    for status, bound in zip(_STATUS_POPULATION, _STATUS_CUM, strict=True):
        if r < bound:
            return status
    return _STATUS_POPULATION[-1]


def _timeline(
    g: _Gen, status: str, now: float
) -> tuple[float, float, list[tuple[float, str]], float | None]:
    """(created, foc, [(time, status) after creation], ported_out) of a port-out that has
    reached `status` by `now`."""
    between = g.between
    history: list[tuple[float, str]] = []
    ported_out: float | None = None
    if status == "pending":
        age = between(0.2, 47) * H if g.r() < 0.8 else between(48, 120) * H
        created = now - age
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


def _seed_one(g: _Gen, now: float, support_key: str, reject_delay: float) -> PortoutHistory:
    status = _status(g)
    created, foc, history, ported_out = _timeline(g, status, now)
    po = _base_portout(g, created, None, support_key)
    pid = po.id
    po.status = status
    po.foc_ts = po.requested_foc_ts = foc
    po.ported_out_ts = ported_out
    if status in ("rejected-pending", "rejected"):
        po.rejection_code, po.reason = _rejection(g, po)
    elif status in ("authorized", "ported"):
        if g.r() < 0.3:
            po.reason = "Verified with the account owner."
        po.host_messaging = g.r() < 0.15
    po.updated_ts = history[-1][0] if history else created

    events = [Event(g.uuid(), STATUS_CHANGED, pid, created, "pending")]
    for at, new_status in history:
        reason = po.reason if new_status in ("rejected-pending", "rejected") else None
        events.append(Event(g.uuid(), STATUS_CHANGED, pid, at, new_status, reason))
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
    due: float | None = None
    if status == "authorized":
        due = po.foc_ts
    elif status == "rejected-pending":
        due = now + g.between(0.1, 1.0) * reject_delay
    return PortoutHistory(po, events, comments, documents, due)


def _comments(g: _Gen, po: PortOut, now: float, events: list[Event]) -> list[Comment]:
    """1 to 4 comments from both sides since creation, each with its event in `events`."""
    comments: list[Comment] = []
    for _ in range(g.int(1, 4)):
        at = g.between(po.created_ts, now)
        staff = g.r() < 0.5
        user = None if staff else g.pick(TEAM_USERS)
        body = g.pick(STAFF_COMMENTS if staff else USER_COMMENTS)
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


def _documents(g: _Gen, po: PortOut, now: float) -> list[tuple[SupportingDocument, Document]]:
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
