"""Fault injection for the sandbox API: latency, 429s, 500/503s, dropped connections, slow replies.

Ratios are rolled with a seeded RNG so a test that makes the same requests sees the same
faults. For exact scripts, `queue("429", "drop", ...)` forces the outcome of the next
requests regardless of ratios. Faults are applied before authentication and before any
state change, so a retried request is always safe.
"""

from __future__ import annotations

import random
import threading
from collections import Counter, deque
from dataclasses import dataclass, fields, replace
from typing import Any

from .errors import SandboxError

__all__ = ["FAULT_KINDS", "FAULT_OPTIONS", "FaultConfig", "FaultInjector"]

FAULT_KINDS = ("429", "500", "503", "drop", "slow")


@dataclass(frozen=True)
class FaultConfig:
    latency_ms: float = 0.0
    rate_limit_ratio: float = 0.0
    retry_after: int = 1
    error_ratio: float = 0.0
    drop_ratio: float = 0.0
    slow_ratio: float = 0.0
    slow_seconds: float = 0.0
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("rate_limit_ratio", "error_ratio", "drop_ratio", "slow_ratio"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, got {value}")
        for name in ("latency_ms", "slow_seconds", "retry_after"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")


FAULT_OPTIONS = tuple(f.name for f in fields(FaultConfig))


class FaultInjector:
    """Decides, per request, whether to misbehave; thread-safe and changeable at runtime."""

    @classmethod
    def from_options(cls, options: dict[str, Any]) -> FaultInjector:
        """From the server's keyword options, where the RNG seed is called `fault_seed`."""
        unknown = set(options) - set(FAULT_OPTIONS) - {"fault_seed"}
        if unknown:
            raise TypeError(f"unknown options: {', '.join(sorted(unknown))}")
        named = {("seed" if k == "fault_seed" else k): v for k, v in options.items()}
        return cls(**named)

    def __init__(self, config: FaultConfig | None = None, **options: Any) -> None:
        self._lock = threading.Lock()
        self.config = replace(config or FaultConfig(), **options)
        self._rng = random.Random(self.config.seed)
        self._queue: deque[str] = deque()
        self.counts: Counter[str] = Counter()

    def configure(self, **options: Any) -> FaultConfig:
        """Change some options (e.g. `configure(error_ratio=0.5)`); a new seed restarts the RNG."""
        with self._lock:
            self.config = replace(self.config, **options)
            if "seed" in options:
                self._rng = random.Random(self.config.seed)
            return self.config

    def reset(self) -> None:
        """No faults, fresh RNG, empty queue and counters."""
        with self._lock:
            self.config = FaultConfig()
            self._rng = random.Random(0)
            self._queue.clear()
            self.counts.clear()

    def queue(self, *kinds: str) -> None:
        """Force the outcome of the next requests in order: "429", "500", "503", "drop", "slow"."""
        for kind in kinds:
            if kind not in FAULT_KINDS:
                raise ValueError(f"unknown fault {kind!r}; use one of {FAULT_KINDS}")
        with self._lock:
            self._queue.extend(kinds)

    @property
    def latency_seconds(self) -> float:
        return self.config.latency_ms / 1000.0

    def decide(self) -> str | None:
        """The fault for this request, or None to serve it normally."""
        with self._lock:
            kind: str | None = None
            if self._queue:
                kind = self._queue.popleft()
            else:
                cfg, roll = self.config, self._rng.random
                if cfg.drop_ratio and roll() < cfg.drop_ratio:
                    kind = "drop"
                elif cfg.rate_limit_ratio and roll() < cfg.rate_limit_ratio:
                    kind = "429"
                elif cfg.error_ratio and roll() < cfg.error_ratio:
                    kind = "500" if roll() < 0.5 else "503"
                elif cfg.slow_ratio and roll() < cfg.slow_ratio:
                    kind = "slow"
            if kind is not None:
                self.counts[kind] += 1
            return kind

    def error_for(self, kind: str | None) -> tuple[SandboxError, dict[str, str]] | None:
        """The error and headers an injected 429, 500 or 503 answers with (None otherwise)."""
        if kind == "429":
            headers = {"Retry-After": str(self.config.retry_after)}
            return SandboxError("10011", "Rate limit exceeded; retry later."), headers
        if kind in ("500", "503"):
            code = "10007" if kind == "500" else "10038"
            return SandboxError(code, "Injected failure; please retry."), {}
        return None
