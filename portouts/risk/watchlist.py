"""The watch list and expected port-outs: entries people make, each edit reassessing the
pending port-outs (after commit), so a match shows as a flag without waiting for a sync."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from portouts.choices import WatchKind
from portouts.models import PortOut, WatchEntry
from portouts.risk.engine import risk_assess_pending


def risk_evidence_changed() -> None:
    """Reassess pending port-outs once the current transaction commits."""
    transaction.on_commit(risk_assess_pending)


def watch_candidates(portout: PortOut) -> list[tuple[str, str]]:
    """(kind, value) a fraud label offers to add: SPID, carrier, names and address."""
    found = [
        (WatchKind.SPID, portout.spid),
        (WatchKind.CARRIER, portout.carrier_name),
        (WatchKind.NAME, portout.end_user_name),
        (WatchKind.NAME, portout.authorized_name),
        (WatchKind.ADDRESS, portout.service_address),
    ]
    return list(dict.fromkeys((str(k), v.strip()) for k, v in found if v and v.strip()))


def watch_entries_add_from_portout(*, user: Any, portout: PortOut) -> int:
    """Add a fraud port-out's SPID, carrier, names and address to the watch list; return
    how many entries are new (existing ones are kept as they are)."""
    label = portout.support_key or portout.id
    added = 0
    with transaction.atomic():
        for kind, value in watch_candidates(portout):
            _, created = WatchEntry.objects.get_or_create(
                kind=kind,
                value=value[:255],
                defaults={
                    "note": f"From {label}, labelled a fraud attempt",
                    "source_portout": portout,
                    "added_by": user,
                },
            )
            added += created
        risk_evidence_changed()
    return added
