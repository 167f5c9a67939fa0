"""The port-out state machine: who may move a port-out where, and what the clock does.

The rules are functions of a port-out (they check, and write its fields); `SandboxState`
applies them, re-files the port-out in the indexes and records the event. The scheduler
keeps the changes Telnyx makes on its own once a time passes: a pending port-out nobody
answered is authorized when its window passes, an authorized one ports on its FOC date,
a rejected-pending one is rejected after the review delay (or sent back to pending when
Porting Ops finds the reason invalid, `rejection_invalid`).
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from .entities import REJECTION_CATALOG, PortOut
from .errors import SandboxError

__all__ = [
    "API_STATUSES",
    "TRANSITIONS",
    "Scheduler",
    "check_foc_change",
    "check_transition",
    "decide",
    "due_change",
    "enter_status",
    "follow_up",
    "rejection_invalid",
    "rejection_options",
]

#: what the account may answer through the API (PATCH /portouts/{id}/{status})
API_STATUSES = ("authorized", "rejected-pending")

#: transitions made by Telnyx, the carriers or Porting Ops (not the API user)
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "pending": ("authorized", "rejected-pending", "rejected", "canceled"),
    "authorized": ("ported", "canceled"),
    "rejected-pending": ("rejected", "pending"),
    "ported": (),
    "rejected": (),
    "canceled": (),
}

#: the change the scheduler makes to a port-out left in this status
_SCHEDULED_KIND = {"pending": "authorize", "authorized": "port", "rejected-pending": "reject"}


class Scheduler:
    """Changes that fall due at a time: a heap of (when, seq, kind, id, version).

    `kind` is "authorize", "port", "reject" or "report"; `version` is the port-out's
    version when the entry was made, so a change the port-out has since left is not
    applied."""

    def __init__(self) -> None:
        self._due: list[tuple[float, int, str, str, int]] = []
        self._seq = itertools.count()

    def add(self, when: float, kind: str, obj_id: str, version: int = 0) -> None:
        heapq.heappush(self._due, (when, next(self._seq), kind, obj_id, version))

    def add_portout(self, po: PortOut, when: float) -> None:
        """Schedule the change its current status leads to (see `follow_up`)."""
        self.add(when, _SCHEDULED_KIND[po.status], po.id, po.version)

    def load(self, entries: Iterable[tuple[PortOut, float]]) -> None:
        """Bulk `add_portout` (seeding), one heapify at the end."""
        seq = self._seq
        self._due.extend(
            (when, next(seq), _SCHEDULED_KIND[po.status], po.id, po.version) for po, when in entries
        )
        heapq.heapify(self._due)

    def pop_due(self, now: float) -> Iterator[tuple[float, str, str, int]]:
        """(when, kind, id, version) of every entry due by `now`, earliest first."""
        due = self._due
        while due and due[0][0] <= now:
            when, _, kind, obj_id, version = heapq.heappop(due)
            yield when, kind, obj_id, version


def follow_up(po: PortOut, now: float, reject_delay: float) -> float | None:
    """When the scheduler will change `po` on its own after it entered its status `now`:
    Telnyx authorizes a pending port-out nobody answered, ports an authorized one on its
    FOC date, settles a rejection after the review delay."""
    if po.status == "pending":
        return po.authorize_ts
    if po.status == "authorized":
        return po.foc_ts
    if po.status == "rejected-pending":
        return now + reject_delay
    return None


def due_change(
    po: PortOut, kind: str, version: int, due: float, now: float
) -> tuple[str, float] | None:
    """(status, at) a fallen-due entry moves `po` to, None when `po` moved on since."""
    if kind == "authorize" and po.status == "pending" and po.version == version:
        return "authorized", max(due, po.updated_ts)
    if kind == "reject" and po.status == "rejected-pending" and po.version == version:
        return "rejected", max(due, po.updated_ts)
    if kind == "port" and po.status == "authorized" and po.foc_ts <= now:
        return "ported", max(po.foc_ts, po.updated_ts)
    return None


def enter_status(po: PortOut, status: str, at: float) -> str | None:
    """Update `po`'s fields for the status it has just been given; returns the rejection
    reason its status event carries."""
    po.updated_ts = at
    if status == "ported":
        po.ported_out_ts = at
    if status == "pending":
        po.reason = None
        po.rejection_code = None
    po.json_cache = None
    return po.reason if status in ("rejected-pending", "rejected") else None


def rejection_invalid(po: PortOut, pin_matched: bool) -> str | None:
    """Why Porting Ops sends a rejection back to pending, or None when it stands: an
    "Invalid PIN" rejection of numbers whose PIN the gaining carrier gave right."""
    if po.rejection_code == 1002 and pin_matched:
        return "the PIN the gaining carrier gave matches the numbers' port-out PIN"
    return None


def check_transition(po: PortOut, status: str) -> None:
    """A move by Telnyx, Porting Ops or the gaining carrier must follow TRANSITIONS."""
    if status not in TRANSITIONS.get(po.status, ()):
        raise SandboxError(
            "10015",
            f"Port-out cannot move from {po.status} to {status}.",
            title="Invalid transition",
        )


def check_foc_change(po: PortOut) -> None:
    if po.status not in ("pending", "authorized", "rejected-pending"):
        raise SandboxError("10015", f"The FOC date of a {po.status} port-out cannot change.")


def decide(po: PortOut, status: str, body: Mapping[str, Any]) -> None:
    """Check the account's decision (PATCH /portouts/{id}/{status}) as Telnyx does, errors
    in the same order, and write its reason, rejection code and host_messaging to `po`;
    the caller then makes the transition."""
    reason, code, host_messaging = _decision_fields(status, body)
    if po.status != "pending":
        raise SandboxError(
            "10015",
            f"Port-out is not pending (it is {po.status}); only pending port-outs "
            "can be authorized or rejected.",
            title="Port-out is not pending",
        )
    if status == "authorized":
        if code is not None:
            raise SandboxError(
                "10016",
                "'rejection_code' is only accepted when rejecting.",
                pointer="/rejection_code",
            )
        po.reason = reason.strip() or None
        po.rejection_code = None
    else:
        po.reason = _rejection_reason(po, code, reason)
        po.rejection_code = code
    po.host_messaging = host_messaging


def _decision_fields(status: str, body: Mapping[str, Any]) -> tuple[str, int | None, bool]:
    """(reason, rejection_code, host_messaging) of a decision body, types checked."""
    if status not in API_STATUSES:
        raise SandboxError(
            "10016",
            f"'{status}' is not a valid status; use one of: authorized, rejected-pending.",
            parameter="status",
        )
    if "reason" not in body or body["reason"] is None:
        raise SandboxError("10004", "The 'reason' field is required.", pointer="/reason")
    reason = body["reason"]
    if not isinstance(reason, str):
        raise SandboxError("10016", "'reason' must be a string.", pointer="/reason")
    host_messaging = body.get("host_messaging", False)
    if not isinstance(host_messaging, bool):
        raise SandboxError(
            "10016", "'host_messaging' must be a boolean.", pointer="/host_messaging"
        )
    code = body.get("rejection_code")
    if code is not None and (isinstance(code, bool) or not isinstance(code, int)):
        raise SandboxError(
            "10016", "'rejection_code' must be an integer.", pointer="/rejection_code"
        )
    return reason, code, host_messaging


def _rejection_reason(po: PortOut, code: int | None, reason: str) -> str:
    """The reason a rejection stores: the text given, or the code's description."""
    if code is not None and code not in po.rejection_codes:
        eligible = ", ".join(str(c) for c in po.rejection_codes)
        raise SandboxError(
            "10016",
            f"Rejection code {code} is not eligible for this port-out (eligible: {eligible}).",
            pointer="/rejection_code",
        )
    needs_reason = code is None or REJECTION_CATALOG[code][1]
    if needs_reason and not reason.strip():
        raise SandboxError(
            "10004",
            "A reason is required for this rejection."
            if code is None
            else f"Rejection code {code} requires a reason.",
            pointer="/reason",
        )
    return reason.strip() or REJECTION_CATALOG[code][0]  # type: ignore[index]


def rejection_options(po: PortOut, codes: Iterable[int] | None = None) -> list[dict[str, Any]]:
    """The rejection codes `po` may be rejected with (those of `codes` only, if given)."""
    wanted = None if codes is None else set(codes)
    return [
        {
            "code": code,
            "description": REJECTION_CATALOG[code][0],
            "reason_required": REJECTION_CATALOG[code][1],
        }
        for code in po.rejection_codes
        if wanted is None or code in wanted
    ]
