"""Computing and storing risk flags: `risk_assess(portout_ids=...)`.

Called when a port-out is stored (the sync's store step) and when its evidence changes
(watch-list and expected-port edits, confirmation requests and answers, the beat's check
for unanswered confirmations). It reads only the cache, a fixed number of queries per batch
of up to 500 port-outs whatever the batch size, and rewrites the batch's RiskFlag rows and
RiskAssessment (score) in one transaction.

The score: the sum of each flag's severity points (`portouts.choices.SEVERITY_POINTS`:
low 10, medium 20, high 35, critical 60, positive -20), kept within 0-100.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Sequence
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from portouts.choices import SEVERITY_POINTS, PortOutStatus
from portouts.models import PortOut, RiskAssessment, RiskFlag
from portouts.risk import flags as _flags  # noqa: F401 - registers the flags
from portouts.risk import inventory_flags as _inventory_flags  # noqa: F401 - registers them
from portouts.risk.evidence import Evidence
from portouts.risk.registry import REGISTRY, Flag

logger = logging.getLogger("portouts.risk")

BATCH_SIZE = 500
#: PortOut fields the flags read (`raw` never)
FLAG_FIELDS = (
    "id",
    "status",
    "phone_numbers",
    "number_count",
    "end_user_name",
    "authorized_name",
    "service_address",
    "city",
    "state",
    "zip",
    "country_code",
    "carrier_name",
    "spid",
    "support_key",
    "created_at",
)


def risk_score(flags: Iterable[Flag]) -> int:
    """The one formula: severity points summed, within 0-100."""
    return max(0, min(100, sum(SEVERITY_POINTS[f.severity] for f in flags)))


def portout_flags(portout: PortOut, evidence: Evidence) -> list[Flag]:
    """Every registered flag that applies to `portout`."""
    raised = []
    for kind, function in REGISTRY.items():
        sentence = function(portout, evidence)
        if sentence:
            raised.append(Flag(kind, sentence))
    return raised


def _digest(flags: Sequence[Flag]) -> str:
    text = "\n".join(f"{f.kind}|{f.sentence}" for f in sorted(flags, key=lambda f: f.kind))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def risk_assess(*, portout_ids: Iterable[str], now: datetime | None = None) -> int:
    """Recompute the flags and score of these port-outs; return how many were assessed."""
    ids = list(dict.fromkeys(portout_ids))
    now = now or timezone.now()
    done = 0
    for start in range(0, len(ids), BATCH_SIZE):
        done += _assess_batch(ids[start : start + BATCH_SIZE], now)
    return done


def _assess_batch(ids: list[str], now: datetime) -> int:
    portouts = list(PortOut.objects.filter(id__in=ids).only(*FLAG_FIELDS))
    if not portouts:
        return 0
    evidence = Evidence(portouts, now=now)
    raised = {p.id: portout_flags(p, evidence) for p in portouts}
    held = dict(
        RiskAssessment.objects.filter(portout_id__in=raised).values_list("portout_id", "digest")
    )
    changed = {pid for pid, flags in raised.items() if held.get(pid) != _digest(flags)}
    with transaction.atomic():
        if changed:
            RiskFlag.objects.filter(portout_id__in=changed).delete()
            RiskFlag.objects.bulk_create(
                RiskFlag(
                    portout_id=pid,
                    kind=f.kind,
                    severity=f.severity,
                    sentence=f.sentence[:500],
                    computed_at=now,
                )
                for pid in changed
                for f in raised[pid]
            )
        RiskAssessment.objects.bulk_create(
            [
                RiskAssessment(
                    portout_id=pid,
                    score=risk_score(flags),
                    digest=_digest(flags),
                    computed_at=now,
                    changed_at=now,
                )
                for pid, flags in raised.items()
            ],
            update_conflicts=True,
            unique_fields=["portout"],
            update_fields=["score", "digest", "computed_at"],
        )
        if changed:
            RiskAssessment.objects.filter(portout_id__in=changed).update(changed_at=now)
    return len(portouts)


def risk_assess_stored(portout_ids: Iterable[str]) -> None:
    """The sync's hook: assess port-outs just stored, inside the sync's transaction.

    In a savepoint, so a failure here is logged and leaves the stored port-outs (and the
    flags they had) in place instead of failing the sync; the next store assesses again.
    """
    ids = list(portout_ids)
    if not ids:
        return
    try:
        with transaction.atomic():
            risk_assess(portout_ids=ids)
    except Exception:
        logger.exception("Risk flags of %d stored port-outs could not be computed", len(ids))


def risk_assess_pending(*, now: datetime | None = None) -> int:
    """Reassess every pending port-out (after a watch-list or expected-port edit)."""
    ids = PortOut.objects.filter(status=PortOutStatus.PENDING).values_list("id", flat=True)
    return risk_assess(portout_ids=list(ids), now=now)
