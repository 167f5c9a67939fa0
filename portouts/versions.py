"""Versions: tokens that change whenever what a page shows changes (the pollers compare
them to answer 204), and results kept in Django's cache under the version they were
computed at: a new version makes a new key, so nothing is ever invalidated by hand.

The cache is an optimisation: when it is down (Redis unreachable), the value is computed and
a warning logged, and the page is still right.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from typing import Any

from django.core.cache import cache
from django.db import connection
from django.db.models import Aggregate, Model, OuterRef, QuerySet, Subquery

logger = logging.getLogger(__name__)

#: How long a result stays cached; a new cache version makes a new key before that.
TIMEOUT_SECONDS = 600


def token(*parts: object) -> str:
    """A short digest of `parts`: equal parts, equal token."""
    return hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()[:20]


def version_cached[T](key: str, compute: Callable[[], T], *, kind: type) -> T:
    """The value cached under `key` if it is a `kind`, else `compute()` stored there."""
    try:
        found = cache.get(key)
    except Exception:
        logger.warning("Cache unavailable reading %s", key.split(":", 2)[1], exc_info=True)
        return compute()
    if isinstance(found, kind):
        return found  # type: ignore[return-value]
    value = compute()
    try:
        cache.set(key, value, TIMEOUT_SECONDS)
    except Exception:
        logger.warning("Cache unavailable writing %s", key.split(":", 2)[1], exc_info=True)
    return value


def per_portout(model: type[Model], aggregate: Aggregate) -> Subquery:
    """`aggregate` over a port-out's rows of `model` (one with `portout_id`), as a column of
    a query on PortOut: a page's version parts read in one query, not one each."""
    return Subquery(
        model._default_manager.filter(portout_id=OuterRef("pk"))
        .order_by()
        .values("portout_id")
        .annotate(value=aggregate)
        .values("value")
    )


class PreparedQuery:
    """A query the ORM compiles once per process, then run with a new value for its one
    parameter: a token of ten subqueries took longer to compile than to run, on a page and
    a poll every reviewer requests every few seconds.

    `build(value)` returns the queryset for `value`; it is compiled with a marker in its
    place, and the marker's slots among the parameters are filled on every run."""

    _MARKER = "\x00prepared-parameter"

    def __init__(self, build: Callable[[str], QuerySet]) -> None:
        self.build = build
        self._compiled: dict[str, tuple[str, list[Any], list[int]]] = {}

    def _compile(self) -> tuple[str, list[Any], list[int]]:
        if connection.vendor not in self._compiled:
            query = self.build(self._MARKER).query
            sql, params = query.get_compiler(connection=connection).as_sql()
            slots = [i for i, p in enumerate(params) if p == self._MARKER]
            self._compiled[connection.vendor] = (sql, list(params), slots)
        return self._compiled[connection.vendor]

    def first_row(self, value: str) -> tuple[Any, ...] | None:
        """The query's first row for `value` (database values, without the ORM's converters:
        what a token needs), or None."""
        sql, params, slots = self._compile()
        params = list(params)
        for i in slots:
            params[i] = value
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()
