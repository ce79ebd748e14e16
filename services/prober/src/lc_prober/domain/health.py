"""Trunk health: a trunk that keeps failing backs off, then is tried again, by itself.

Pure logic over a clock, so the schedule is testable in microseconds. A trunk fault
is what says nothing about the number: credentials refused, no response at all,
the transport failing, or 503 (a storm of them is the carrier, or our own overrun,
not the leads). `threshold` faults in a row open the breaker: the trunk backs off
for `base` seconds, doubling on each failed trial up to `cap`. When the back-off
ends the trunk is `probing`: a few trial calls go out and the first normal answer
makes it healthy again, while a fault backs off once more, for longer.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from lc_prober.adapters.sip.result import CallResult

State = Literal["healthy", "backing_off", "probing"]


def trunk_fault(call: CallResult) -> str | None:
    """Why this call counts against the trunk, or None if the network answered normally."""
    if call.ended_by == "auth_failed":
        return "auth_failed"
    if call.ended_by == "transport_error":
        return "transport_error"
    if call.ended_by == "no_response" and not call.responses:
        return "no_response"
    if call.final_code == 503:
        return "503"
    return None


@dataclass(frozen=True, slots=True)
class HealthChange:
    """A transition, for the caller to log and export."""

    state: State
    reason: str
    backoff_seconds: float = 0.0


class TrunkHealth:
    """The breaker of one trunk in this replica."""

    def __init__(
        self,
        *,
        threshold: int = 5,
        base: float = 1.0,
        cap: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        on_change: Callable[[HealthChange], None] | None = None,
    ) -> None:
        if threshold < 1 or base <= 0 or cap < base:
            raise ValueError("threshold >= 1 and 0 < base <= cap")
        self.threshold = threshold
        self.base = base
        self.cap = cap
        self._clock = clock
        self._on_change = on_change
        self._state: State = "healthy"
        self._faults = 0
        self._backoffs = 0
        self._until = 0.0
        self.reason = ""

    @property
    def state(self) -> State:
        """The state now (a finished back-off turns into probing when looked at)."""
        if self._state == "backing_off" and self._clock() >= self._until:
            self._set("probing", f"back-off of {self._current_backoff():g}s over")
        return self._state

    @property
    def retry_in(self) -> float:
        """Seconds left in the back-off (0 unless backing off)."""
        return max(0.0, self._until - self._clock()) if self.state == "backing_off" else 0.0

    def _current_backoff(self) -> float:
        return float(min(self.cap, self.base * 2.0 ** max(0, self._backoffs - 1)))

    def record(self, fault: str | None) -> None:
        """Account one finished call: its trunk fault, or None for a normal answer."""
        state = self.state
        if state == "backing_off":
            return  # calls started before the back-off; they change nothing now
        if fault is None:
            self._faults = 0
            if state == "probing":
                self._backoffs = 0
                self._set("healthy", "trunk answers again")
            return
        self._faults += 1
        if state == "probing" or self._faults >= self.threshold:
            self._backoffs += 1
            self._faults = 0
            backoff = self._current_backoff()
            self._until = self._clock() + backoff
            self._set("backing_off", fault, backoff)

    def _set(self, state: State, reason: str, backoff: float = 0.0) -> None:
        self._state = state
        self.reason = reason
        if self._on_change is not None:
            self._on_change(HealthChange(state, reason, backoff))
