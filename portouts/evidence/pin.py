"""The PIN result of a port-out, from the `attempted_pin` of its status events.

Telnyx's port-out PIN protection applies to US numbers on its own network only and rejects
a request with a missing or wrong PIN by itself. So, reading the latest
`portout.status_changed` event that carries `attempted_pin`:

* the port-out's numbers are not US numbers (its country is set and is not US): **not
  eligible**, whatever the events say;
* no status event cached yet: **unknown**;
* `attempted_pin` empty or null: **no PIN given** (auto-rejected when the rule below holds);
* a PIN given and the event rejects the request (status `rejected` or `rejected-pending`)
  with a reason naming the PIN: **wrong**;
* a PIN given and no such rejection: **matched** (given and not refused by Telnyx).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from portouts.choices import PIN_TONES, PinResult, PortOutStatus

_PIN_WORD = re.compile(r"\bpin\b", re.IGNORECASE)
_REJECTED = {PortOutStatus.REJECTED.value, PortOutStatus.REJECTED_PENDING.value}


@dataclass(frozen=True)
class PinCheck:
    result: PinResult
    attempted_pin: str = ""
    auto_rejected: bool = False

    @property
    def tone(self) -> str:
        return PIN_TONES[self.result]

    @property
    def label(self) -> str:
        if self.result == PinResult.MISSING and self.auto_rejected:
            return "No PIN given: Telnyx rejected the request for it"
        return str(self.result.label)


def pin_check(*, country_code: str, payloads: Iterable[Mapping[str, Any]]) -> PinCheck:
    """Apply the rule above; `payloads` are the status events' payloads, oldest first."""
    if country_code and country_code.upper() != "US":
        return PinCheck(PinResult.NOT_ELIGIBLE)
    latest = None
    for payload in payloads:
        if "attempted_pin" in payload:
            latest = payload
    if latest is None:
        return PinCheck(PinResult.UNKNOWN)
    pin = str(latest.get("attempted_pin") or "").strip()
    rejected = latest.get("status") in _REJECTED and bool(
        _PIN_WORD.search(str(latest.get("rejection_reason") or ""))
    )
    if not pin:
        return PinCheck(PinResult.MISSING, auto_rejected=rejected)
    return PinCheck(PinResult.WRONG if rejected else PinResult.MATCHED, pin, rejected)
