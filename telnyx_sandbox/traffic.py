"""Background "life" for demos: new port-outs, comments, FOC moves and transitions over time.

Every action goes through the public state mutators, so each produces its event and
webhook just like a real change at Telnyx. `step()` runs one action and can be called
directly for a deterministic sequence.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable

from .entities import PortOut
from .seed import STAFF_COMMENTS, D, H
from .state import SandboxState

__all__ = ["TrafficGenerator"]


class TrafficGenerator:
    def __init__(self, state: SandboxState, *, interval: float, seed: int | None = None) -> None:
        self.state = state
        self.interval = interval
        self.rng = random.Random(seed)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.actions: list[tuple[str, Callable[[], str | None], int]] = [
            ("new port-out", self._new_portout, 30),
            ("staff comment", self._comment, 20),
            ("FOC change", self._foc_change, 15),
            ("carrier cancel", self._cancel, 10),
            ("auto-authorize overdue", self._auto_authorize, 15),
            ("rejection bounced back", self._bounce, 5),
        ]

    def _random(self, status: str) -> PortOut | None:
        keys = self.state._by_status[status]
        if not keys:
            return None
        return self.state.portouts[keys[self.rng.randrange(len(keys))][1]]

    def _new_portout(self) -> str:
        po = self.state.create_portout(rng=self.rng)
        return f"new port-out {po.support_key} ({len(po.phone_numbers)} numbers)"

    def _comment(self) -> str | None:
        po = self._random("pending") or self._random("authorized")
        if po is None:
            return None
        self.state.add_comment(po.id, self.rng.choice(STAFF_COMMENTS))
        return f"staff comment on {po.support_key}"

    def _foc_change(self) -> str | None:
        po = self._random(self.rng.choice(("pending", "authorized")))
        if po is None:
            return None
        new = max(po.foc_ts + self.rng.uniform(-2, 3) * D, self.state.now() + 6 * H)
        self.state.change_foc_date(po.id, new)
        return f"FOC date of {po.support_key} moved"

    def _cancel(self) -> str | None:
        po = self._random("pending")
        if po is None:
            return None
        self.state.change_status(po.id, "canceled")
        return f"{po.support_key} canceled by the gaining carrier"

    def _auto_authorize(self) -> str | None:
        keys = self.state._by_status["pending"]
        cutoff = self.state.now() - 48 * H
        if not keys or keys[0][0] > cutoff:
            return None
        po = self.state.portouts[keys[0][1]]
        self.state.change_status(po.id, "authorized")
        return f"{po.support_key} auto-authorized after 48 h"

    def _bounce(self) -> str | None:
        po = self._random("rejected-pending")
        if po is None:
            return None
        self.state.change_status(po.id, "pending")
        return f"rejection of {po.support_key} sent back to pending by Porting Ops"

    def step(self) -> str | None:
        """Run one weighted random action; returns what happened (None if nothing applied)."""
        with self.state.lock:
            names = list(self.actions)
            action = self.rng.choices(names, weights=[w for _, _, w in names])[0]
            return action[1]()

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(
                target=self._run, name="telnyx-sandbox-traffic", daemon=True
            )
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.step()
