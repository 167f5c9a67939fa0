"""What the flags read, loaded once for a batch of port-outs: each source is one query,
made only when a flag asks for it, so assessing 500 port-outs costs the same few queries
as assessing one. Everything comes from the cache; nothing here calls Telnyx."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any

from django.db.models import Min
from django.db.models.functions import Lower

from portouts.choices import EventType
from portouts.evidence.selectors import Evidence as InventoryEvidence
from portouts.evidence.selectors import portouts_evidence
from portouts.models import (
    ConfirmationRequest,
    ExpectedPortOut,
    PortOut,
    PortOutEvent,
    PortOutNumber,
    WatchEntry,
)


@dataclass(frozen=True)
class EarlierAttempt:
    """Another port-out on one of the same numbers, created before this one."""

    portout_id: str
    label: str
    status: str
    created_at: datetime | None


class Evidence:
    """The batch's evidence; `portouts` are the rows being assessed."""

    def __init__(self, portouts: Sequence[PortOut], *, now: datetime) -> None:
        self.portouts = list(portouts)
        self.ids = [p.id for p in self.portouts]
        self.now = now

    @cached_property
    def status_events(self) -> dict[str, list[dict[str, Any]]]:
        """portout id -> payloads of its `portout.status_changed` events, oldest first."""
        rows = (
            PortOutEvent.objects.filter(
                portout_id__in=self.ids, event_type=EventType.STATUS_CHANGED
            )
            .order_by("created_at", "received_at")
            .values_list("portout_id", "payload")
        )
        found: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for pid, payload in rows:
            found[pid].append(payload if isinstance(payload, dict) else {})
        return found

    def _first_seen(self, field: str) -> dict[str, datetime]:
        """Value of `field` (lower case) -> creation of the account's first port-out with
        it, for the values this batch holds (SPIDs and carriers are compared case-blind)."""
        values = {str(getattr(p, field)).lower() for p in self.portouts if getattr(p, field)}
        rows = (
            PortOut.objects.annotate(key=Lower(field))
            .filter(key__in=values)
            .values("key")
            .annotate(first=Min("created_at"))
            .values_list("key", "first")
        )
        return {key: first for key, first in rows if first is not None}

    @cached_property
    def spid_first_seen(self) -> dict[str, datetime]:
        return self._first_seen("spid")

    @cached_property
    def carrier_first_seen(self) -> dict[str, datetime]:
        return self._first_seen("carrier_name")

    @cached_property
    def attempts_by_number(self) -> dict[str, list[EarlierAttempt]]:
        """number -> every cached port-out naming it (this batch's included)."""
        numbers = {n for p in self.portouts for n in p.phone_numbers or () if isinstance(n, str)}
        rows = PortOutNumber.objects.filter(number__in=numbers).values_list(
            "number",
            "portout_id",
            "portout__support_key",
            "portout__status",
            "portout__created_at",
        )
        found: dict[str, list[EarlierAttempt]] = defaultdict(list)
        for number, pid, key, status, created in rows:
            found[number].append(EarlierAttempt(pid, key or pid, status, created))
        return found

    @cached_property
    def watch_entries(self) -> list[WatchEntry]:
        return list(WatchEntry.objects.all())

    @cached_property
    def expected(self) -> list[ExpectedPortOut]:
        """Expected port-outs still valid for the oldest request of the batch."""
        created = [p.created_at for p in self.portouts if p.created_at]
        since = min(created) if created else self.now
        return list(
            ExpectedPortOut.objects.filter(valid_until__gte=since).select_related("customer")
        )

    @cached_property
    def latest_confirmation(self) -> dict[str, ConfirmationRequest]:
        """portout id -> the last confirmation request sent for it."""
        latest: dict[str, ConfirmationRequest] = {}
        for request in ConfirmationRequest.objects.filter(portout_id__in=self.ids).order_by(
            "sent_at", "id"
        ):
            latest[request.portout_id] = request
        return latest

    @cached_property
    def inventory(self) -> dict[str, InventoryEvidence]:
        """portout id -> what the verification panel shows (numbers, customers, freeze),
        for the whole batch in the panel's fixed number of queries."""
        return portouts_evidence(self.portouts)
