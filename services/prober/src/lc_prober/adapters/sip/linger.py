"""ACKs kept after their INVITE transaction, to answer retransmitted finals (Timer D)."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Hashable


class LingeringAcks:
    """For each finished INVITE, its ACK until an expiry time.

    Not a timer per call: at hundreds of calls a second, 32-second timers fill the event
    loop's heap with tens of thousands of handles, and every timer of every call then
    pays for the deeper heap. Expiry is checked on lookup; memory is reclaimed from the
    oldest end as new ACKs come in.
    """

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._acks: dict[Hashable, tuple[float, bytes]] = {}
        self._order: deque[tuple[float, Hashable]] = deque()

    def add(self, key: Hashable, ack: bytes, seconds: float) -> None:
        """Keep ``ack`` for ``key`` for ``seconds`` from now."""
        now = self._clock()
        expires = now + seconds
        self._acks[key] = (expires, ack)
        self._order.append((expires, key))
        self._prune(now)

    def get(self, key: Hashable) -> bytes | None:
        """The ACK kept for ``key``, if it has not expired."""
        entry = self._acks.get(key)
        if entry is None or entry[0] <= self._clock():
            return None
        return entry[1]

    def clear(self) -> None:
        """Forget every ACK."""
        self._acks.clear()
        self._order.clear()

    def __len__(self) -> int:
        return len(self._acks)

    def _prune(self, now: float) -> None:
        order, acks = self._order, self._acks
        # Entries with different durations interleave; one not yet due stops the sweep
        # and those behind it wait for a later one (get() checks expiry anyway).
        while order and order[0][0] <= now:
            expires, key = order.popleft()
            entry = acks.get(key)
            if entry is not None and entry[0] == expires:
                del acks[key]
