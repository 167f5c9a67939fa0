"""Presence: who else has a port-out's page open, and who has opened its decision panel.

Kept in Django's cache only, with a short time-to-live: the page's own refresh (every
10 s) marks the reader as viewing, so someone who closed the tab drops out after
`PRESENCE_SECONDS`; opening the decision panel marks them as deciding for
`DECIDING_SECONDS`. One key per reader and port-out (no read-modify-write between readers)
plus a small index of who was seen. A cache outage makes everyone look alone; it never
breaks the page.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Viewer:
    """Another person on the same port-out's page."""

    name: str
    deciding: bool
    seen_seconds_ago: int


@dataclass(frozen=True)
class Presence:
    """The others on the page, and a token that changes when they come, go or decide."""

    others: list[Viewer]

    @property
    def deciding(self) -> list[Viewer]:
        return [v for v in self.others if v.deciding]

    @property
    def token(self) -> str:
        seen = "|".join(f"{v.name}:{int(v.deciding)}" for v in self.others)
        return hashlib.sha256(seen.encode()).hexdigest()[:8] if seen else ""


def _index_key(portout_id: str) -> str:
    return f"portouts:presence:{portout_id}"


def _reader_key(portout_id: str, user_id: object) -> str:
    return f"portouts:presence:{portout_id}:{user_id}"


def presence_touch(*, portout_id: str, user: Any, deciding: bool | None = None) -> Presence:
    """Mark `user` as on the page (and as deciding, or no longer, when `deciding` is given);
    return the others present."""
    try:
        return _touch(portout_id, user, deciding)
    except Exception:  # presence is a courtesy: a cache outage must not break the page
        logger.warning("Presence unavailable: the cache does not answer", exc_info=True)
        return Presence([])


def _touch(portout_id: str, user: Any, deciding: bool | None) -> Presence:
    now = time.time()
    index: dict[str, str] = cache.get(_index_key(portout_id)) or {}
    me = str(user.pk)
    keys = {uid: _reader_key(portout_id, uid) for uid in {*index, me}}
    found = cache.get_many(list(keys.values()))
    mine = dict(found.get(keys[me]) or {})
    mine.update(name=user.get_username(), seen=now)
    if deciding is not None:
        mine["deciding_until"] = now + settings.DECIDING_SECONDS if deciding else 0
    lasting = max(settings.PRESENCE_SECONDS, mine.get("deciding_until", 0) - now)
    cache.set(keys[me], mine, timeout=int(lasting) + 1)
    alive = {uid: found[key] for uid, key in keys.items() if uid != me and key in found}
    # Rewritten on each touch: those whose own key expired drop out of the index.
    cache.set(_index_key(portout_id), dict.fromkeys([*alive, me], ""), settings.DECIDING_SECONDS)
    others = [
        Viewer(
            name=str(entry.get("name", "")),
            deciding=entry.get("deciding_until", 0) > now,
            seen_seconds_ago=max(0, int(now - entry.get("seen", now))),
        )
        for entry in alive.values()
        if now - entry.get("seen", 0) <= settings.PRESENCE_SECONDS
        or entry.get("deciding_until", 0) > now
    ]
    return Presence(sorted(others, key=lambda v: v.name))
