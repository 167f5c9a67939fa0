"""A percentile aggregate that runs in the database on both supported backends.

PostgreSQL has `percentile_cont(f) WITHIN GROUP (ORDER BY x)`; SQLite has no percentile,
so `register_sqlite_functions` gives each SQLite connection an aggregate of the same
meaning (linear interpolation between the closest ranks), and the page's queries stay the
same on both.
"""

from __future__ import annotations

import math
from typing import Any

from django.db.models import Aggregate, FloatField

SQLITE_FUNCTION = "portouts_percentile"


class Percentile(Aggregate):
    """The `fraction` percentile (0..1) of an expression, as percentile_cont computes it."""

    name = "Percentile"
    output_field = FloatField()
    empty_result_set_value = None

    def __init__(self, expression: Any, fraction: float, **extra: Any) -> None:
        if not 0 <= fraction <= 1:
            raise ValueError("A percentile's fraction is between 0 and 1.")
        self.fraction = float(fraction)
        super().__init__(expression, **extra)

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        template = (
            f"percentile_cont({self.fraction}) WITHIN GROUP (ORDER BY %(expressions)s)%(filter)s"
        )
        return self.as_sql(compiler, connection, template=template, **extra)

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        template = f"{SQLITE_FUNCTION}(%(expressions)s, {self.fraction})%(filter)s"
        return self.as_sql(compiler, connection, template=template, **extra)


class _SqlitePercentile:
    """percentile_cont for SQLite: collects the group's values, interpolates at the end."""

    def __init__(self) -> None:
        self.values: list[float] = []
        self.fraction = 0.5

    def step(self, value: float | None, fraction: float) -> None:
        if value is not None:
            self.values.append(float(value))
        self.fraction = fraction

    def finalize(self) -> float | None:
        if not self.values:
            return None
        values = sorted(self.values)
        rank = self.fraction * (len(values) - 1)
        low, high = math.floor(rank), math.ceil(rank)
        return values[low] + (values[high] - values[low]) * (rank - low)


def register_sqlite_functions(sender: Any, connection: Any, **kwargs: Any) -> None:
    """`connection_created` receiver: adds the percentile aggregate to SQLite connections."""
    if connection.vendor == "sqlite":
        connection.connection.create_aggregate(SQLITE_FUNCTION, 2, _SqlitePercentile)
