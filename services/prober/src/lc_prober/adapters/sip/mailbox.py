"""Where a transaction's responses wait for the coroutine that follows them."""

from __future__ import annotations

import asyncio
import math
from collections import deque

TIMED_OUT = object()
"""What :meth:`Mailbox.next` returns when the deadline passed first."""


class Mailbox:
    """Events in arrival order, awaited with a deadline.

    Not ``asyncio.Queue`` under ``asyncio.timeout_at``: a call waits four or five times,
    and each of those waits cost a queue's getter future, a ``Timeout`` context and a
    timer. Here a wait is one future, and the timer outlives the wait: a later wait whose
    deadline is no earlier keeps it, and its (early) expiry is only a TIMED_OUT the caller
    re-checks its clocks on. A call answered at once thus sets one timer, not four.
    """

    __slots__ = ("_events", "_loop", "_timer", "_timer_at", "_waiter")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._events: deque[object] = deque()
        self._waiter: asyncio.Future[object] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = math.inf

    def put(self, event: object) -> None:
        """Deliver an event: to the waiting coroutine if there is one, else keep it."""
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            self._waiter = None
            waiter.set_result(event)
        else:
            self._events.append(event)

    async def next(self, deadline: float) -> object:
        """The next event, or TIMED_OUT at `deadline` (loop time; inf: no deadline) or
        sooner, when an earlier wait's timer is still set."""
        if self._events:
            return self._events.popleft()
        if deadline < self._timer_at:
            if self._timer is not None:
                self._timer.cancel()
            self._timer = (
                self._loop.call_at(deadline, self._expire) if deadline < math.inf else None
            )
            self._timer_at = deadline
        waiter = self._waiter = self._loop.create_future()
        try:
            return await waiter
        finally:
            self._waiter = None

    def close(self) -> None:
        """Cancel the timer (the transaction is over)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._timer_at = math.inf

    def _expire(self) -> None:
        self._timer = None
        self._timer_at = math.inf
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            self._waiter = None
            waiter.set_result(TIMED_OUT)
