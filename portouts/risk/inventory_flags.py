"""The flags read from the number inventory and our customer records: the verification
panel's warnings (`portouts.evidence.selectors.Evidence`), loaded for the whole batch by
`Evidence.inventory` so the rule for each stays in the evidence package.

Each flag stays silent while the cache holds no inventory yet (no full sync has read it),
because then every number would look foreign and new.
"""

from __future__ import annotations

from django.utils import timezone

from portouts.choices import RiskFlagKind
from portouts.evidence.selectors import RECENT_DAYS
from portouts.evidence.selectors import Evidence as InventoryEvidence
from portouts.models import PortOut
from portouts.risk.evidence import Evidence
from portouts.risk.formatting import last_digits
from portouts.risk.registry import risk_flag

#: numbers named in a sentence before "and N more"
LISTED = 3


def _listed(numbers: list[str]) -> str:
    shown = ", ".join(last_digits(n) for n in numbers[:LISTED])
    more = len(numbers) - LISTED
    return f"{shown} and {more} more" if more > 0 else shown


def _inventory(portout: PortOut, evidence: Evidence) -> InventoryEvidence | None:
    found = evidence.inventory.get(portout.id)
    return None if found is None or found.inventory_missing else found


@risk_flag(RiskFlagKind.CUSTOMER_MISMATCH)
def differs_from_customer(portout: PortOut, evidence: Evidence) -> str | None:
    """The carrier's names or address differ from the record of the numbers' customer."""
    found = _inventory(portout, evidence)
    if found is None or found.customer is None or not found.differences:
        return None
    fields = ", ".join(found.differences)
    return f"Differs from our record of {found.customer.name}: {fields}"


@risk_flag(RiskFlagKind.NO_CUSTOMER)
def without_customer(portout: PortOut, evidence: Evidence) -> str | None:
    found = _inventory(portout, evidence)
    missing = found.numbers_without_customer() if found else []
    if not missing:
        return None
    total = len(found.numbers) if found else 0
    return f"{len(missing)} of {total} numbers have no customer record: {_listed(missing)}"


@risk_flag(RiskFlagKind.FROZEN)
def under_freeze(portout: PortOut, evidence: Evidence) -> str | None:
    """A customer of these numbers asked that none leave before a date still to come."""
    found = _inventory(portout, evidence)
    until = found.frozen_until(timezone.localdate(evidence.now)) if found else None
    if until is None:
        return None
    return f"The customer asked that no number leave before {until:%Y-%m-%d} (port-out freeze)"


@risk_flag(RiskFlagKind.ALL_NUMBERS)
def all_numbers_leaving(portout: PortOut, evidence: Evidence) -> str | None:
    found = _inventory(portout, evidence)
    if found is None or found.customer is None or not found.all_customer_numbers_leaving():
        return None
    return f"Every number we know for {found.customer.name} is in this request"


@risk_flag(RiskFlagKind.RECENT_NUMBERS)
def recent_numbers(portout: PortOut, evidence: Evidence) -> str | None:
    """Numbers bought or ported in lately: a common pattern of number theft."""
    found = _inventory(portout, evidence)
    recent = found.recent_numbers(RECENT_DAYS) if found else []
    if not recent:
        return None
    return f"Bought or ported in less than {RECENT_DAYS} days ago: {_listed(recent)}"
