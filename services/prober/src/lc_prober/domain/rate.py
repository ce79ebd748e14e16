"""A lane's call-start limit: at most `starts` calls in any window of `window` seconds.

A sliding window of start times rather than a leaky bucket: a bucket that starts
full lets through a second's worth at once and another second's worth during the
next second, so a one-second window could see twice the rate. Counting the starts
of the last window is exact, which is what lets lanes' budgets add up to the
trunk's CPS (see `lc_common.lanes`).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable


class StartWindow:
    """Counts call starts in a sliding window; `delay` and `take` are pure, `acquire` waits."""

    def __init__(
        self, starts: int, window: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if starts < 1 or window <= 0:
            raise ValueError("a window needs at least one start and a positive length")
        self.starts = starts
        self.window = window
        self._clock = clock
        self._stamps: deque[float] = deque()

    def delay(self, now: float) -> float:
        """Seconds until a call may start (0: now)."""
        stamps = self._stamps
        while stamps and stamps[0] <= now - self.window:
            stamps.popleft()
        if len(stamps) < self.starts:
            return 0.0
        return stamps[0] + self.window - now

    def take(self, now: float) -> None:
        """Record a start at `now` (the caller checked `delay(now) == 0`)."""
        self._stamps.append(now)

    async def acquire(self) -> None:
        """Wait until a call may start and count it as started."""
        while True:
            now = self._clock()
            wait = self.delay(now)
            if wait <= 0:
                self.take(now)
                return
            await asyncio.sleep(wait)
