"""List filters and paging: which index a query starts from and what is checked per record.

A filter on phone number, support key or PON starts from its look-up; one on status from
that status's sorted keys; anything else is checked record by record, but only when
something is left to check, so the common list pages stay slices of an index.
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass, field

from .entities import PortOut, iso, normalize_number
from .indexes import Key, Records

__all__ = ["PortoutFilter", "event_keys", "page_desc", "page_meta", "portout_keys"]

Check = Callable[[PortOut], bool]


@dataclass
class PortoutFilter:
    """GET /portouts filters, already validated and normalised."""

    statuses: list[str] | None = None
    carrier_name: str | None = None
    spid: str | None = None
    pon: str | None = None
    phone_number: str | None = None
    support_key: str | None = None
    country_codes: list[str] | None = None
    foc_date: str | None = None  # YYYY-MM-DD (UTC)
    inserted_gte: float | None = None
    inserted_lte: float | None = None
    ported_gte: float | None = None
    ported_lte: float | None = None
    customer_references: list[str] | None = None
    end_user_name: str | None = None
    phone_numbers_any: list[str] | None = None
    created_gt: float | None = None
    created_lt: float | None = None
    extra: list[Check] = field(default_factory=list)


def portout_keys(records: Records, flt: PortoutFilter) -> list[Key]:
    """Sorted (created_ts, id) keys of the port-outs that match, oldest first."""
    keys: list[Key]
    exact = False
    portouts = records.portouts
    if flt.phone_number is not None:
        ids = records.ids_by_phone(normalize_number(flt.phone_number))
        keys = sorted(portouts[i].key for i in ids)
    elif flt.support_key is not None:
        pid = records.by_support_key.get(flt.support_key)
        keys = [portouts[pid].key] if pid else []
    elif flt.pon is not None:
        keys = sorted(portouts[i].key for i in records.ids_by_pon(flt.pon))
    elif flt.statuses is not None:
        statuses = list(dict.fromkeys(flt.statuses))
        if len(statuses) == 1:
            keys = records.by_status[statuses[0]]
        else:
            keys = sorted(itertools.chain.from_iterable(records.by_status[s] for s in statuses))
        exact = True
    else:
        keys = records.order
        exact = True
    checks = _checks(flt)
    if exact and len(checks) <= (1 if flt.statuses is not None else 0):
        return keys
    return [k for k in keys if all(check(portouts[k[1]]) for check in checks)]


def _checks(flt: PortoutFilter) -> list[Check]:
    checks = _identity_checks(flt) + _time_checks(flt)
    if flt.customer_references is not None:
        refs = frozenset(flt.customer_references)
        checks.append(lambda p: p.customer_reference in refs)
    if flt.end_user_name is not None:
        name = flt.end_user_name.casefold()
        checks.append(lambda p: name in p.end_user_name.casefold())
    if flt.phone_numbers_any is not None:
        numbers = frozenset(normalize_number(n) for n in flt.phone_numbers_any)
        checks.append(lambda p: not numbers.isdisjoint(p.phone_numbers))
    checks.extend(flt.extra)
    return checks


def _identity_checks(flt: PortoutFilter) -> list[Check]:
    """Status, carrier, SPID, PON, support key, number, country."""
    checks: list[Check] = []
    if flt.statuses is not None:
        wanted = frozenset(flt.statuses)
        checks.append(lambda p: p.status in wanted)
    if flt.carrier_name is not None:
        carrier = flt.carrier_name.casefold()
        checks.append(lambda p: p.carrier_name.casefold() == carrier)
    if flt.spid is not None:
        spid = flt.spid
        checks.append(lambda p: p.spid == spid)
    if flt.pon is not None:
        pon = flt.pon
        checks.append(lambda p: p.pon == pon)
    if flt.support_key is not None:
        sk = flt.support_key
        checks.append(lambda p: p.support_key == sk)
    if flt.phone_number is not None:
        number = normalize_number(flt.phone_number)
        checks.append(lambda p: number in p.phone_numbers)
    if flt.country_codes is not None:
        countries = frozenset(c.upper() for c in flt.country_codes)
        checks.append(lambda p: p.country_code in countries)
    return checks


def _time_checks(flt: PortoutFilter) -> list[Check]:
    """FOC day, creation and port-out time bounds."""
    checks: list[Check] = []
    if flt.foc_date is not None:
        day = flt.foc_date
        checks.append(lambda p: iso(p.foc_ts)[:10] == day)  # type: ignore[index]
    if flt.inserted_gte is not None:
        gte = flt.inserted_gte
        checks.append(lambda p: p.created_ts >= gte)
    if flt.inserted_lte is not None:
        lte = flt.inserted_lte
        checks.append(lambda p: p.created_ts <= lte)
    if flt.created_gt is not None:
        gt = flt.created_gt
        checks.append(lambda p: p.created_ts > gt)
    if flt.created_lt is not None:
        lt = flt.created_lt
        checks.append(lambda p: p.created_ts < lt)
    if flt.ported_gte is not None:
        pg = flt.ported_gte
        checks.append(lambda p: p.ported_out_ts is not None and p.ported_out_ts >= pg)
    if flt.ported_lte is not None:
        pl = flt.ported_lte
        checks.append(lambda p: p.ported_out_ts is not None and p.ported_out_ts <= pl)
    return checks


def event_keys(
    records: Records,
    *,
    event_type: str | None,
    portout_id: str | None,
    gte: float | None,
    lte: float | None,
) -> list[Key]:
    """Sorted keys of the events that match GET /portouts/events' filters, oldest first."""
    events = records.events
    if portout_id is not None:
        keys = [events[i].key for i in records.events_by_portout.get(portout_id, ())]
        if event_type is not None:
            keys = [k for k in keys if events[k[1]].event_type == event_type]
    elif event_type is not None:
        keys = records.events_by_type[event_type]
    else:
        keys = records.event_order
    if gte is not None or lte is not None:
        lo = 0 if gte is None else bisect.bisect_left(keys, (gte, ""))
        hi = len(keys) if lte is None else bisect.bisect_right(keys, (lte, "\uffff"))
        keys = keys[lo:hi]
    return keys


def page_desc(keys: list[Key], page: int, size: int) -> list[Key]:
    """Page `page` of `keys` read newest first (keys are sorted oldest first)."""
    hi = len(keys) - (page - 1) * size
    if hi <= 0:
        return []
    return keys[max(0, hi - size) : hi][::-1]


def page_meta(total: int, page: int, size: int) -> dict[str, int]:
    """The `meta` object of a list response."""
    return {
        "page_number": page,
        "page_size": size,
        "total_pages": math.ceil(total / size),
        "total_results": total,
    }
