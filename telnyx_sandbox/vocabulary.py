"""The sample vocabulary of seeded data and the fast random helpers that draw from it.

Names, places, carriers, streets and comments, one value a line, plus `Gen`, thin wrappers
over one `random.Random`. Seeding port-outs (`seed.py`) and customers (`customers.py`)
both draw from here, so neither imports the other's vocabulary.
"""

from __future__ import annotations

import random
from typing import Any

__all__ = [
    "CA_CARRIERS",
    "CA_LOCATIONS",
    "CARRIER_COMMENTS",
    "STAFF_COMMENTS",
    "US_CARRIERS",
    "US_LOCATIONS",
    "USER_COMMENTS",
    "D",
    "Gen",
    "H",
    "end_user",
    "person",
    "postal",
    "random_numbers",
]

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
CARRIER_COMMENTS = (
    "The end user re-signed the LOA; please review the new copy.",
    "Our customer asks for the earliest possible FOC date.",
    "The account number on the CSR was corrected; please re-check.",
    "The end user confirmed the PIN with us by phone.",
    "Please confirm the service address on file for these numbers.",
    "We are porting only the numbers listed; the rest stay with you.",
    "Resubmitting with the authorized name as it appears on the bill.",
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


class Gen:
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


def person(g: Gen) -> str:
    return f"{g.pick(FIRST)} {g.pick(LAST)}"


def end_user(g: Gen) -> str:
    if g.r() < 0.55:
        suffix = g.pick(BUSINESS_SUFFIX)
        name = f"{g.pick(BUSINESS_WORDS)} {g.pick(BUSINESS_KINDS)}"
        return f"{name} {suffix}".strip()
    return person(g)


def random_numbers(g: Gen, area_codes: tuple[str, ...]) -> list[str]:
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


def postal(g: Gen, country: str, prefix: str) -> str:
    if country == "US":
        return f"{prefix}{g.int(0, 99):02d}"
    return f"{prefix} {g.int(1, 9)}{g.pick('ABCEGHJKLMNPRSTVWXYZ')}{g.int(1, 9)}"
