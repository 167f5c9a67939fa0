"""The one place risk flags are registered: `@risk_flag(kind)` on a function.

A flag function takes a port-out and the batch's `Evidence` and returns the flag's plain
sentence (its reason), or None when the flag does not apply. Its severity comes from the
kind (`portouts.choices.FLAG_SEVERITY`), so one kind always weighs the same.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from portouts.choices import FLAG_SEVERITY

if TYPE_CHECKING:
    from portouts.models import PortOut
    from portouts.risk.evidence import Evidence

FlagFunction = Callable[["PortOut", "Evidence"], "str | None"]


@dataclass(frozen=True)
class Flag:
    """A flag raised on one port-out."""

    kind: str
    sentence: str

    @property
    def severity(self) -> str:
        return FLAG_SEVERITY[self.kind]


#: kind -> the function that raises it, in registration order
REGISTRY: dict[str, FlagFunction] = {}


def risk_flag(kind: str) -> Callable[[FlagFunction], FlagFunction]:
    """Register `fn` as the function raising flags of `kind` (one function per kind)."""

    def register(fn: FlagFunction) -> FlagFunction:
        if kind not in FLAG_SEVERITY:
            raise ValueError(f"Flag kind {kind!r} has no severity in portouts.choices")
        if kind in REGISTRY:
            raise ValueError(f"Flag kind {kind!r} is registered twice")
        REGISTRY[kind] = fn
        return fn

    return register
