"""Forgiving readers of the fields of Telnyx's JSON, shared by every wire type.

Telnyx adds fields and sends nulls, and a dashboard should keep working when it does:
missing or null fields become None (or an empty list / False where the spec gives a
default), datetime strings become aware UTC datetimes (None when unparseable), and enum
values outside the published ones are kept as plain strings and logged once.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import threading
from collections.abc import Callable
from dataclasses import field
from datetime import UTC, datetime
from typing import Any, Self

__all__ = [
    "WireType",
    "as_dict",
    "parse_datetime",
    "raw_field",
    "read_bool",
    "read_dict",
    "read_int",
    "read_status",
    "read_str",
    "read_str_list",
    "warn_once",
]

logger = logging.getLogger("portouts.telnyx")

_warned: set[tuple[str, str]] = set()
_warned_lock = threading.Lock()


def warn_once(kind: str, value: str) -> None:
    """Log an unexpected enum value at warning level, once per process."""
    with _warned_lock:
        if (kind, value) in _warned:
            return
        _warned.add((kind, value))
    logger.warning("Telnyx sent an unknown %s %r; keeping it as text", kind, value)


def parse_datetime(value: Any) -> datetime | None:
    """ISO 8601 string → aware datetime in UTC; None for null or unparseable input."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str) and value.strip():
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            return None
    else:
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def read_str(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)


def read_int(data: dict[str, Any], key: str) -> int | None:
    value = data.get(key)
    if value is None or isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def read_bool(data: dict[str, Any], key: str, default: bool | None = None) -> bool | None:
    value = data.get(key)
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return default


def read_str_list(data: dict[str, Any], key: str) -> list[str]:
    value = data.get(key)
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list):
        return []
    return [str(v) for v in value if v is not None]


def read_dict(data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key)
    return value if isinstance(value, dict) else {}


def read_status(data: dict[str, Any], key: str, known: frozenset[str], kind: str) -> str | None:
    value = read_str(data, key)
    if value is not None and value not in known:
        warn_once(kind, value)
    return value


def as_dict(data: Any) -> dict[str, Any]:
    return data if isinstance(data, dict) else {}


def raw_field() -> Any:
    """The original API dict: kept for debugging and new fields, left out of repr/eq."""
    return field(default_factory=dict, repr=False, compare=False)


#: The reader of a field, by its annotation (as written: these modules postpone them).
_READERS: dict[str, Callable[[dict[str, Any], str], Any]] = {
    "str | None": read_str,
    "int | None": read_int,
    "bool | None": read_bool,
    "bool": lambda data, key: bool(read_bool(data, key, False)),
    "datetime | None": lambda data, key: parse_datetime(data.get(key)),
    "list[str]": read_str_list,
    "dict[str, Any]": read_dict,
}


class WireType:
    """`from_api` for a frozen dataclass whose fields are named as Telnyx names them."""

    @classmethod
    def read_specially(cls, data: dict[str, Any]) -> dict[str, Any]:
        """The fields its annotation alone cannot read (none unless a type says so)."""
        return {}

    @classmethod
    def from_api(cls, data: dict[str, Any] | None) -> Self:
        data = as_dict(data)
        values = cls.read_specially(data)
        for name, read in _plan(cls):  # type: ignore[arg-type]  # a class is hashable
            if name not in values:
                values[name] = read(data, name)
        return cls(**values)


def _whole(data: dict[str, Any], key: str) -> dict[str, Any]:
    return data


@functools.cache
def _plan(cls: type) -> tuple[tuple[str, Callable[[dict[str, Any], str], Any]], ...]:
    """(name, reader) of each field of `cls`, worked out once per type; `raw` is the whole
    API dict."""
    fields = dataclasses.fields(cls)
    return tuple((f.name, _whole if f.name == "raw" else _READERS[str(f.type)]) for f in fields)
