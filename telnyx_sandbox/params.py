"""Query-string parsing for Telnyx `deepObject` parameters (`filter[...]`, `page[...]`).

Arrays are accepted in every form clients use: comma-joined (`filter[status_in]=a,b`,
what the official SDK sends), repeated keys (`filter[status_in]=a&filter[status_in]=b`)
and bracketed repeats (`filter[status_in][]=a`). Malformed values raise a 422
`SandboxError` naming the parameter, as Telnyx does.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime
from urllib.parse import parse_qsl

from .errors import SandboxError

__all__ = ["MAX_PAGE_SIZE", "Query", "parse_datetime", "parse_datetime_param"]

MAX_PAGE_SIZE = 250
DEFAULT_PAGE_SIZE = 20


def parse_datetime(value: str) -> float | None:
    """ISO 8601 date or date-time -> UTC epoch seconds; naive values are UTC. None if invalid."""
    text = value.strip()
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def parse_datetime_param(value: str, name: str) -> float:
    parsed = parse_datetime(value)
    if parsed is None:
        raise SandboxError("10016", f"'{value}' is not a valid ISO 8601 date-time.", parameter=name)
    return parsed


class Query:
    """Parsed query string with list-aware accessors."""

    def __init__(self, raw: str) -> None:
        self.values: dict[str, list[str]] = {}
        for key, value in parse_qsl(raw, keep_blank_values=True):
            name = key[:-2] if key.endswith("[]") else key
            self.values.setdefault(name, []).append(value)

    def filter_names(self) -> set[str]:
        return {k for k in self.values if k.startswith("filter[")}

    def check_filters(self, allowed: Iterable[str]) -> None:
        allowed_set = set(allowed)
        for name in sorted(self.filter_names()):
            if name not in allowed_set:
                raise SandboxError("10016", f"Unknown filter '{name}'.", parameter=name)

    def get(self, name: str) -> str | None:
        """A single value; repeated keys are a client error."""
        items = self.values.get(name)
        if items is None:
            return None
        if len(items) > 1:
            raise SandboxError("10016", f"'{name}' takes a single value.", parameter=name)
        return items[0]

    def get_list(self, name: str) -> list[str] | None:
        items = self.values.get(name)
        if items is None:
            return None
        out = [part.strip() for item in items for part in item.split(",")]
        out = [part for part in out if part]
        if not out:
            raise SandboxError("10016", f"'{name}' needs at least one value.", parameter=name)
        return out

    def get_enum(self, name: str, choices: Iterable[str]) -> str | None:
        value = self.get(name)
        if value is None:
            return None
        allowed = tuple(choices)
        if value not in allowed:
            raise SandboxError(
                "10016",
                f"'{value}' is not one of: {', '.join(allowed)}.",
                parameter=name,
            )
        return value

    def get_enum_list(self, name: str, choices: Iterable[str]) -> list[str] | None:
        values = self.get_list(name)
        if values is None:
            return None
        allowed = tuple(choices)
        for value in values:
            if value not in allowed:
                raise SandboxError(
                    "10016",
                    f"'{value}' is not one of: {', '.join(allowed)}.",
                    parameter=name,
                )
        return values

    def get_datetime(self, name: str) -> float | None:
        value = self.get(name)
        return None if value is None else parse_datetime_param(value, name)

    def get_pattern(self, name: str, pattern: str, what: str) -> str | None:
        value = self.get(name)
        if value is not None and not re.fullmatch(pattern, value):
            raise SandboxError("10016", f"'{value}' is not {what}.", parameter=name)
        return value

    def page(self) -> tuple[int, int]:
        """(page[number], page[size]) validated: number >= 1, size 1..250 (default 20)."""
        number = self._int("page[number]", 1, 1, None)
        size = self._int("page[size]", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)
        return number, size

    def _int(self, name: str, default: int, low: int, high: int | None) -> int:
        raw = self.get(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise SandboxError("10016", f"'{raw}' is not an integer.", parameter=name) from None
        if value < low or (high is not None and value > high):
            bound = f"between {low} and {high}" if high is not None else f"at least {low}"
            raise SandboxError("10016", f"{name} must be {bound}.", parameter=name)
        return value
