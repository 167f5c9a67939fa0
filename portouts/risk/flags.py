"""The risk flags, one small function each, registered with `@risk_flag(kind)`.

Each returns the flag's plain sentence (its reason) or None. History-based flags compare a
request only with port-outs created *before* it, so storing a new port-out never changes
the flags of older ones.
"""

from __future__ import annotations

import re
from datetime import datetime, time
from zoneinfo import ZoneInfo

from django.conf import settings

from portouts.choices import ConfirmationAnswer, RiskFlagKind, WatchKind
from portouts.models import ExpectedPortOut, PortOut
from portouts.risk.evidence import EarlierAttempt, Evidence
from portouts.risk.formatting import local_time, mask_email
from portouts.risk.matching import similar
from portouts.risk.registry import risk_flag

#: a rejection reason that speaks of the PIN ("Invalid PIN", "PIN mismatch")
PIN_REASON = re.compile(r"\bpin\b", re.IGNORECASE)
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _numbers(portout: PortOut) -> list[str]:
    return [n for n in portout.phone_numbers or () if isinstance(n, str)]


@risk_flag(RiskFlagKind.PIN)
def wrong_or_missing_pin(portout: PortOut, evidence: Evidence) -> str | None:
    """From Telnyx's status events: a rejection for the PIN, or no PIN given at all."""
    events = evidence.status_events.get(portout.id)
    if not events:
        return None
    for payload in events:
        reason = str(payload.get("rejection_reason") or "")
        if PIN_REASON.search(reason):
            return f"Telnyx rejected the PIN the gaining carrier gave (reason: {reason[:200]})"
    if not any(str(p.get("attempted_pin") or "").strip() for p in events):
        return "The gaining carrier gave no PIN (none in Telnyx's status events)"
    return None


def _never_seen(seen: dict[str, datetime], key: str, created: datetime) -> bool:
    """No port-out to `key` was created before `created` (the request itself is the first)."""
    first = seen.get(key.lower())
    return first is None or first >= created


@risk_flag(RiskFlagKind.NEW_CARRIER)
def new_gaining_carrier(portout: PortOut, evidence: Evidence) -> str | None:
    """No earlier port-out on this account went to this SPID (or carrier)."""
    created = portout.created_at
    if created is None:
        return None
    new = []
    if portout.spid and _never_seen(evidence.spid_first_seen, portout.spid, created):
        new.append(f"SPID {portout.spid}")
    carrier = portout.carrier_name
    if carrier and _never_seen(evidence.carrier_first_seen, carrier, created):
        new.append(f"gaining carrier {carrier}")
    if not new:
        return None
    text = " and ".join(new)
    return f"{text[0].upper()}{text[1:]} never seen on this account before"


@risk_flag(RiskFlagKind.MANY_NUMBERS)
def many_numbers(portout: PortOut, evidence: Evidence) -> str | None:
    threshold = settings.RISK_MANY_NUMBERS
    if portout.number_count < threshold:
        return None
    return f"{portout.number_count} numbers leaving at once (flagged from {threshold})"


def _earlier(portout: PortOut, evidence: Evidence) -> list[EarlierAttempt]:
    created = portout.created_at
    if created is None:
        return []
    found: dict[str, tuple[datetime, EarlierAttempt]] = {}
    for number in _numbers(portout):
        for attempt in evidence.attempts_by_number.get(number, ()):
            when = attempt.created_at
            if attempt.portout_id != portout.id and when is not None and when < created:
                found[attempt.portout_id] = (when, attempt)
    return [attempt for _when, attempt in sorted(found.values(), key=lambda pair: pair[0])]


@risk_flag(RiskFlagKind.REPEATED)
def repeated_attempt(portout: PortOut, evidence: Evidence) -> str | None:
    """Earlier port-out requests named some of the same numbers."""
    earlier = _earlier(portout, evidence)
    if not earlier:
        return None
    listed = ", ".join(f"{a.label} ({a.status})" for a in earlier[-3:])
    more = f" and {len(earlier) - 3} more" if len(earlier) > 3 else ""
    plural = "s" if len(earlier) > 1 else ""
    return f"{len(earlier)} earlier port-out request{plural} on these numbers: {listed}{more}"


def _business_hours() -> tuple[time, time]:
    start, _, end = settings.RISK_BUSINESS_HOURS.partition("-")
    return time.fromisoformat(start.strip()), time.fromisoformat(end.strip())


def business_hours_label() -> str:
    """e.g. "Mon, Tue, Wed, Thu, Fri 09:00-19:00 America/Chicago"."""
    days = ", ".join(WEEKDAYS[d - 1] for d in sorted(settings.RISK_BUSINESS_DAYS))
    start, end = _business_hours()
    return f"{days} {start:%H:%M}-{end:%H:%M} {settings.RISK_BUSINESS_TIMEZONE}"


@risk_flag(RiskFlagKind.OFF_HOURS)
def outside_business_hours(portout: PortOut, evidence: Evidence) -> str | None:
    if portout.created_at is None:
        return None
    local = portout.created_at.astimezone(ZoneInfo(settings.RISK_BUSINESS_TIMEZONE))
    start, end = _business_hours()
    if local.isoweekday() in settings.RISK_BUSINESS_DAYS and start <= local.time() < end:
        return None
    when = f"{WEEKDAYS[local.weekday()]} {local:%H:%M}"
    return f"Created {when}, outside business hours ({business_hours_label()})"


@risk_flag(RiskFlagKind.WATCHLIST)
def on_watch_list(portout: PortOut, evidence: Evidence) -> str | None:
    """The SPID, carrier, a name or the address matches an entry seen in confirmed fraud."""
    names = [portout.end_user_name, portout.authorized_name]
    hits = []
    for entry in evidence.watch_entries:
        if entry.kind == WatchKind.SPID:
            hit = bool(portout.spid) and entry.value.lower() == portout.spid.lower()
        elif entry.kind == WatchKind.CARRIER:
            hit = similar(entry.value, portout.carrier_name)
        elif entry.kind == WatchKind.NAME:
            hit = any(similar(entry.value, name) for name in names)
        else:
            hit = similar(entry.value, portout.service_address)
        if hit:
            hits.append(f"{entry.get_kind_display()} “{entry.value}”")
    return f"On the watch list: {', '.join(hits)}" if hits else None


def _to_carrier(wanted: str, portout: PortOut) -> bool:
    """The request goes to `wanted`, a carrier name or a SPID (any carrier when blank)."""
    if not wanted:
        return True
    spid = portout.spid or ""
    return wanted.strip().lower() == spid.lower() or similar(wanted, portout.carrier_name)


def _expected_reason(expected: ExpectedPortOut, portout: PortOut, evidence: Evidence) -> str:
    """How the request matches `expected`: numbers it names, or numbers that are all the
    expected customer's (the verification panel's number-to-customer join); "" if not."""
    numbers = set(_numbers(portout))
    shared = numbers & set(expected.numbers or ())
    if shared:
        return f"{len(shared)} of its {len(numbers)} numbers registered as leaving"
    if expected.customer is None:
        return ""
    found = evidence.inventory.get(portout.id)
    owners = {n.customer.pk if n.customer else None for n in found.numbers} if found else set()
    if owners != {expected.customer.pk}:
        return ""
    name = expected.customer.name
    return f"its {len(numbers)} numbers all belong to {name}, a customer registered as leaving"


@risk_flag(RiskFlagKind.EXPECTED)
def expected_port(portout: PortOut, evidence: Evidence) -> str | None:
    """A port-out the team registered as expected (churn ticket) matches this one."""
    created = portout.created_at or evidence.now
    for expected in evidence.expected:
        if expected.valid_until < created or not _to_carrier(expected.gaining_carrier, portout):
            continue
        reason = _expected_reason(expected, portout, evidence)
        if not reason:
            continue
        note = f": {expected.note[:120]}" if expected.note else ""
        return f"Expected: {reason} (valid until {local_time(expected.valid_until)}){note}"
    return None


@risk_flag(RiskFlagKind.CONFIRMED_NO)
def end_user_said_no(portout: PortOut, evidence: Evidence) -> str | None:
    request = evidence.latest_confirmation.get(portout.id)
    if request is None or request.answer != ConfirmationAnswer.NO or not request.answered_at:
        return None
    return (
        f"The end user answered No ({mask_email(request.email)}, "
        f"{local_time(request.answered_at)}): they did not request this transfer"
    )


@risk_flag(RiskFlagKind.CONFIRMED_YES)
def end_user_said_yes(portout: PortOut, evidence: Evidence) -> str | None:
    request = evidence.latest_confirmation.get(portout.id)
    if request is None or request.answer != ConfirmationAnswer.YES or not request.answered_at:
        return None
    return (
        f"The end user confirmed they requested this transfer ({mask_email(request.email)}, "
        f"{local_time(request.answered_at)})"
    )


@risk_flag(RiskFlagKind.NO_ANSWER)
def no_answer_in_time(portout: PortOut, evidence: Evidence) -> str | None:
    request = evidence.latest_confirmation.get(portout.id)
    if request is None or request.answer or evidence.now < request.answer_by:
        return None
    return f"No answer from {mask_email(request.email)} by {local_time(request.answer_by)}"
