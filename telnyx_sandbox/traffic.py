"""Background "life" for demos: new port-outs, comments, FOC moves and transitions over time.

Every action goes through the public state mutators, so each produces its event and
webhook just like a real change at Telnyx. New port-outs follow the evidence scenarios
(`scenarios.py`): mostly legitimate requests for a customer's numbers, and sometimes a
wrong PIN on PIN-protected numbers (Telnyx refuses it at once), another attempt on numbers
asked for before, a name that is not the customer's, or an unknown carrier asking for
all of a customer's numbers. A new pending port-out arrives at least every
`pending_every` steps, so `make demo` shows one (and its alert) within minutes.
Authorizing unanswered port-outs is not traffic: the state's scheduler does it when their
window passes. `step()` runs one action and can be called directly for a deterministic
sequence.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from typing import Any

from .entities import CARRIER_USER_ID, PortOut
from .scenarios import NEW_CARRIER
from .seed import wrong_pin
from .state import SandboxState
from .vocabulary import CARRIER_COMMENTS, STAFF_COMMENTS, D, Gen, H, person

__all__ = ["TrafficGenerator"]


class TrafficGenerator:
    def __init__(
        self,
        state: SandboxState,
        *,
        interval: float,
        seed: int | None = None,
        pending_every: int = 4,
    ) -> None:
        self.state = state
        self.interval = interval
        self.rng = random.Random(seed)
        self.pending_every = pending_every
        self._quiet = 0
        self._arrived = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.actions: list[tuple[str, Callable[[], str | None], int]] = [
            ("new port-out", self._new_portout, 40),
            ("comment", self._comment, 20),
            ("FOC change", self._foc_change, 15),
            ("carrier cancel", self._cancel, 10),
            ("rejection bounced back", self._bounce, 5),
        ]

    def _random(self, status: str) -> PortOut | None:
        keys = self.state._by_status[status]
        if not keys:
            return None
        return self.state.portouts[keys[self.rng.randrange(len(keys))][1]]

    def _new_portout(self, kind: str | None = None) -> str:
        """A gaining carrier files a port: which case is drawn by weight unless given."""
        kind = (
            kind
            or self.rng.choices(
                ("legitimate", "wrong PIN", "repeat", "name mismatch", "new carrier"),
                weights=(60, 12, 10, 10, 8),
            )[0]
        )
        po = self.state.create_portout(rng=self.rng, **self._case(kind))
        self._arrived = po.status == "pending"
        outcome = "refused by PIN" if po.status == "rejected" else po.status
        return f"new port-out {po.support_key} ({kind}, {len(po.phone_numbers)} numbers, {outcome})"

    def _case(self, kind: str) -> dict[str, Any]:
        """create_portout overrides for one evidence case ({} when it does not apply)."""
        inventory, g = self.state.inventory, Gen(self.rng)
        if kind == "wrong PIN":
            protected = [
                n for n in inventory.numbers.values() if n.external_pin and n.status == "active"
            ]
            if protected:
                number = g.pick(protected)
                return {
                    "phone_numbers": [number.phone_number],
                    "attempted_pin": wrong_pin(g, number.external_pin),
                }
        if kind == "repeat":
            earlier = self._random("rejected") or self._random("canceled")
            free = earlier is not None and all(
                inventory.numbers[n].status == "active" for n in earlier.phone_numbers
            )
            if earlier is not None and free:
                return {
                    "phone_numbers": earlier.phone_numbers,
                    "carrier_name": earlier.carrier_name,
                    "spid": earlier.spid,
                    "end_user_name": earlier.end_user_name,
                }
        if kind == "name mismatch":
            return {"end_user_name": person(g), "authorized_name": person(g)}
        if kind == "new carrier":
            return {"carrier_name": NEW_CARRIER[0], "spid": NEW_CARRIER[1]}
        return {}

    def _comment(self) -> str | None:
        po = self._random("pending") or self._random("authorized")
        if po is None:
            return None
        if self.rng.random() < 0.3:
            self.state.add_comment(
                po.id, self.rng.choice(CARRIER_COMMENTS), user_id=CARRIER_USER_ID
            )
            return f"gaining carrier's comment on {po.support_key}"
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

    def _bounce(self) -> str | None:
        po = self._random("rejected-pending")
        if po is None:
            return None
        self.state.bounce_rejection(po.id)
        return f"rejection of {po.support_key} sent back to pending by Porting Ops"

    def step(self) -> str | None:
        """Run one weighted random action (a new port-out when none arrived pending for
        `pending_every` steps); returns what happened (None if nothing applied)."""
        with self.state.lock:
            self._arrived = False
            if self._quiet >= self.pending_every:
                result: str | None = self._new_portout("legitimate")
            else:
                action = self.rng.choices(self.actions, weights=[w for _, _, w in self.actions])[0]
                result = action[1]()
            self._quiet = 0 if self._arrived else self._quiet + 1
            self._arrived = False
            return result

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
