"""The rules of a decision, each written once: what is sent as the reason, when a reason is
required, which codes a port-out may be rejected with, and how a decision is recognised on
a later read of the port-out.

The decision services, the forms, the decision panel and its confirm screen (through the
view's context) and the page's script (through data attributes the template renders from
`EligibleCodes.options`) all ask this module instead of restating a rule. It calls no
service and no Telnyx, so forms can import it.

Eligible codes come from the cache (the sync stores them for every pending port-out) and
are read once per request. Telnyx is asked for them only inside a decision (the reject
form's steps and the reject service, `decisions.eligible_codes_load`), never while a page
is drawn.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from portouts.choices import PortOutStatus, ReviewActionKind
from portouts.models import PortOut, RejectionCode, ReviewAction

#: The statuses Telnyx shows once a decision of each kind was applied.
DECISION_STATUSES: dict[str, frozenset[str]] = {
    ReviewActionKind.AUTHORIZE.value: frozenset({PortOutStatus.AUTHORIZED.value}),
    ReviewActionKind.REJECT.value: frozenset(
        {PortOutStatus.REJECTED_PENDING.value, PortOutStatus.REJECTED.value}
    ),
}

#: Shown under the reason of a rejection.
REJECT_REASON_HELP = (
    "Codes marked “reason required” need an explanation. For the others, the code's "
    "description is sent when the reason is empty."
)


# -- what is sent ---------------------------------------------------------------------------


def authorize_reason(note: str, *, username: str) -> str:
    """Telnyx wants a reason even to authorize: the note, else who authorized it."""
    return note.strip() or f"Authorized by {username}"


def authorize_note_help(*, username: str) -> str:
    default = authorize_reason("", username=username)
    return f"Sent to Telnyx as the reason. Left empty: “{default}”."


def reject_reason(reason: str, code: RejectionCode) -> str:
    """Telnyx requires a reason with every rejection; an optional one defaults to the code's
    description."""
    return reason.strip() or code.description


def reason_problem(code: RejectionCode, reason: str) -> str | None:
    """Why this reason cannot be sent with this code, or None when it can."""
    if code.reason_required and not reason.strip():
        return (
            f"Code {code.code} ({code.description}) requires a reason: explain to Telnyx why "
            "the port-out is refused."
        )
    return None


# -- the codes a port-out may be rejected with ----------------------------------------------


@dataclass(frozen=True)
class CodeOption:
    """One entry of the code picker, with what the page's script needs to know about it."""

    code: int
    label: str
    reason_required: bool
    #: the reason sent when the reason field is left empty ("" when one must be written)
    reason_when_empty: str


@dataclass
class EligibleCodes:
    """The rejection codes Telnyx accepts for one port-out, as read once for a request."""

    portout_id: str
    codes: list[RejectionCode] = field(default_factory=list)
    #: Telnyx was asked for them in this request (`decisions.eligible_codes_load`)
    asked: bool = False
    #: why Telnyx could not be asked for them
    error: str = ""

    def __bool__(self) -> bool:
        return bool(self.codes)

    def __iter__(self) -> Iterator[RejectionCode]:
        return iter(self.codes)

    def get(self, code: Any) -> RejectionCode | None:
        return next((c for c in self.codes if c.code == code), None)

    @property
    def options(self) -> list[CodeOption]:
        return [
            CodeOption(
                code=c.code,
                label=f"{c.code} — {c.description}"
                + (" (reason required)" if c.reason_required else ""),
                reason_required=c.reason_required,
                reason_when_empty="" if c.reason_required else reject_reason("", c),
            )
            for c in self.codes
        ]


def eligible_codes(*, portout_id: str) -> EligibleCodes:
    """The codes the cache holds for this port-out (no Telnyx call: the sync stores them,
    and `decisions.eligible_codes_load` asks Telnyx within a decision)."""
    return EligibleCodes(portout_id, list(RejectionCode.objects.filter(portout_id=portout_id)))


# -- recognising a decision --------------------------------------------------------------


@dataclass(frozen=True)
class Wanted:
    """The state a decision asks for, to recognise it on a re-read of the port-out."""

    kind: str
    #: None when the reason sent is not known (then only status and code are compared)
    reason: str | None
    rejection_code: int | None = None

    @property
    def statuses(self) -> frozenset[str]:
        return DECISION_STATUSES[self.kind]

    def seen_in(self, portout: PortOut) -> bool:
        """Telnyx shows this decision: the status, and our reason/code where Telnyx reports one
        (another reviewer deciding the same way at the same time is not our success)."""
        if portout.status not in self.statuses:
            return False
        if self.reason is not None and portout.reason and portout.reason != self.reason:
            return False
        return not (
            self.rejection_code is not None
            and portout.rejection_code is not None
            and portout.rejection_code != self.rejection_code
        )


def wanted_for_action(action: ReviewAction) -> Wanted | None:
    """What a recorded decision asked for; None for actions that are not decisions."""
    if action.kind not in DECISION_STATUSES:
        return None
    inputs = action.inputs if isinstance(action.inputs, dict) else {}
    code = inputs.get("rejection_code")
    reason = str(inputs.get("reason") or "")
    if action.kind == ReviewActionKind.REJECT and not reason and code is not None:
        # An empty reason was sent as the code's description.
        known = RejectionCode.objects.filter(portout_id=action.portout_id, code=code).first()
        reason = reject_reason("", known) if known else ""
    # Without the reason that was sent, only the status and code are compared.
    return Wanted(action.kind, reason or None, rejection_code=code)


# -- the two-person rule ----------------------------------------------------------------------


def portout_snapshot(portout: PortOut) -> dict[str, Any]:
    """What a prepared rejection was decided on: if Telnyx later shows other numbers, another
    FOC date or another status, the second reviewer would approve something else."""
    return {
        "phone_numbers": sorted(str(n) for n in (portout.phone_numbers or [])),
        "foc_date": portout.foc_date.isoformat() if portout.foc_date else None,
        "status": portout.status,
    }


SNAPSHOT_LABELS = {"phone_numbers": "numbers", "foc_date": "FOC date", "status": "status"}


def snapshot_changes(snapshot: dict[str, Any], portout: PortOut) -> list[str]:
    """What differs between the snapshot and the port-out now ("numbers", "FOC date", ...)."""
    now = portout_snapshot(portout)
    return [label for key, label in SNAPSHOT_LABELS.items() if snapshot.get(key) != now[key]]


def changed_sentence(changes: list[str]) -> str:
    """Why an approval is void, as a person reads it."""
    return (
        f"The port-out changed in Telnyx since the rejection was prepared ({', '.join(changes)}), "
        "so the approval is void and nothing was sent. Prepare the rejection again if it "
        "still holds."
    )
