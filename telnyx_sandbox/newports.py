"""A new port-out with realistic random fields, as a gaining carrier files it.

Shared by seeding (`seed.py`, for each history) and the state (`create_portout`, for a
port-out that arrives while the sandbox runs), so neither needs the other.
"""

from __future__ import annotations

import itertools
import random
from typing import Any

from .entities import REJECTION_CATALOG, STATUSES, PortOut, normalize_number, to_ts
from .vocabulary import (
    CA_CARRIERS,
    CA_LOCATIONS,
    STREET_KINDS,
    STREETS,
    US_CARRIERS,
    US_LOCATIONS,
    VENDORS,
    D,
    Gen,
    end_user,
    person,
    postal,
    random_numbers,
)

__all__ = ["FIELD_ALIASES", "base_portout", "random_portout"]

EXTRA_CODES = tuple(c for c in REJECTION_CATALOG if c not in (1001, 1002))
CODE_SETS = [
    tuple(sorted((1001, 1002, *combo)))
    for r in range(len(EXTRA_CODES) + 1)
    for combo in itertools.combinations(EXTRA_CODES, r)
]
_default_rng = random.Random()


def base_portout(g: Gen, created: float, country: str | None, support_key: str) -> PortOut:
    """A pending port-out filed at `created` (in the US or Canada, drawn when not given)."""
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
        random_numbers(g, area_codes),
        person(g),
        carrier,
        spid,
        end_user(g),
        city,
        region,
        postal(g, country, prefix),
        f"{g.int(1, 9899)} {g.pick(STREETS)} {g.pick(STREET_KINDS)}",
        f"{pon_prefix}{g.int(10_000_000, 99_999_999)}",
        support_key,
        "pending",
        created,
        created,
        requested,
        requested,
        country_code=country,
        vendor=g.pick(VENDORS),
        rejection_codes=g.pick(CODE_SETS),
        attempted_pin=f"{g.int(0, 9999):04d}",
    )


FIELD_ALIASES = {
    "created_at": "created_ts",
    "updated_at": "updated_ts",
    "foc_date": "foc_ts",
    "requested_foc_date": "requested_foc_ts",
    "ported_out_at": "ported_out_ts",
    "authorize_at": "authorize_ts",
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
    overrides = {FIELD_ALIASES.get(k, k): v for k, v in (overrides or {}).items()}
    country = overrides.pop("country_code", None)
    po = base_portout(Gen(rng or _default_rng), now, country, support_key)
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
