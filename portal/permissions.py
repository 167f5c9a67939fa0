"""Each user's permissions, kept in the cache so a page does not query them every time.

Django's ModelBackend reads a user's permissions with two queries on every request (their
own, and their groups'; bench/permissions.py times both ways). This backend keeps the set
in the cache for PERMISSIONS_CACHE_SECONDS under a generation number; any change to who
holds what (a user's groups or own permissions, a group's permissions, a group or a
permission added or removed) moves the generation on, so the change counts from the next
request, not after the timeout. It moves once at the change, so a test or a request in the
same transaction sees it, and again at commit, so a set read from the database before the
commit is not kept under the new generation.

When the cache cannot be reached the permissions come from the database, as without the
cache; a change made during an outage counts at the latest after the timeout.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import AnonymousUser, Group, Permission, User
from django.core.cache import cache
from django.db import transaction
from django.db.models import Model
from django.db.models.signals import m2m_changed, post_delete, post_save

from portal.outages import CACHE_ERRORS

logger = logging.getLogger(__name__)

GENERATION_KEY = "perms:generation"


def _user_key(user: User | AnonymousUser) -> str:
    return f"perms:{user.pk}:{int(getattr(user, 'is_superuser', False))}"


class CachedPermissionsBackend(ModelBackend):
    """ModelBackend whose `get_all_permissions` is read from the cache when it can be."""

    def get_all_permissions(
        self, user_obj: User | AnonymousUser, obj: Model | None = None
    ) -> set[str]:
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if hasattr(user_obj, "_perm_cache"):
            return user_obj._perm_cache  # type: ignore[no-any-return]
        key = _user_key(user_obj)
        try:
            found = cache.get_many([GENERATION_KEY, key])
        except CACHE_ERRORS as exc:
            logger.warning("Permissions read from the database, the cache is unreachable: %s", exc)
            return super().get_all_permissions(user_obj)
        generation = found.get(GENERATION_KEY)
        kept = found.get(key)
        if generation is not None and kept is not None and kept[0] == generation:
            user_obj._perm_cache = kept[1]  # type: ignore[union-attr,attr-defined]
            return kept[1]  # type: ignore[no-any-return]
        perms = super().get_all_permissions(user_obj)
        try:
            if generation is None:
                # First use, or the key was evicted: a new number no kept set can carry.
                generation = time.time_ns()
                if not cache.add(GENERATION_KEY, generation, timeout=None):
                    return perms
            cache.set(key, (generation, perms), timeout=settings.PERMISSIONS_CACHE_SECONDS)
        except CACHE_ERRORS as exc:
            logger.warning("Permissions not cached, the cache is unreachable: %s", exc)
        return perms


def _permissions_changed() -> None:
    """Move the generation on now and again at commit: every kept set is then stale."""
    _next_generation()
    transaction.on_commit(_next_generation)


def _next_generation() -> None:
    try:
        cache.set(GENERATION_KEY, time.time_ns(), timeout=None)
    except CACHE_ERRORS as exc:
        logger.warning("Kept permissions not invalidated, the cache is unreachable: %s", exc)


def _on_change(sender: type[Model], **kwargs: Any) -> None:
    if kwargs.get("action", "post_").startswith("post_"):
        _permissions_changed()


def connect_signals() -> None:
    """Invalidate kept permissions on every change to who holds what (see the docstring)."""
    from django.contrib.auth import get_user_model

    user_model = get_user_model()
    for through in (
        user_model.groups.through,  # type: ignore[attr-defined]
        user_model.user_permissions.through,  # type: ignore[attr-defined]
        Group.permissions.through,
    ):
        m2m_changed.connect(_on_change, sender=through, dispatch_uid=f"perms-{through}")
    for model in (Group, Permission):
        post_save.connect(_on_change, sender=model, dispatch_uid=f"perms-save-{model}")
        post_delete.connect(_on_change, sender=model, dispatch_uid=f"perms-delete-{model}")
