"""Publishes calls' signalling in batches, off the call's path.

A call's channel is free once the call ends: the handler hands the signalling to
this sender and returns, and the sender publishes whatever has gathered in one
`publish_many` (the producer batches it, one acknowledgement wait for the lot).
Only publishing is retried, for the whole batch, with back-off; if it keeps
failing the sender fails, `put` raises from then on and `failed` resolves, which
stops the process (the calls' signalling is lost; the scheduler's sweep
re-dispatches those leads after their probe timeout, as for a kill -9).

On a graceful stop `close` publishes everything handed over before it returns,
so no call that ended is left without its signalling.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

import structlog

from lc_common.events import PROBE_SIGNALLING, ProbeSignallingV1
from lc_common.kafka import Publisher

log = structlog.get_logger(__name__)


class SignallingSender:
    """A queue of signalling events and the task that publishes it in batches."""

    def __init__(
        self,
        publisher: Publisher,
        *,
        attempts: int,
        backoff_max: float,
        on_retry: Callable[[int, BaseException], None] = lambda _n, _e: None,
    ) -> None:
        self._publisher = publisher
        self._attempts = attempts
        self._backoff_max = backoff_max
        self._on_retry = on_retry
        self._queue: list[tuple[str, ProbeSignallingV1]] = []
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._closing = False
        self._task: asyncio.Task[None] | None = None
        self.failed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def start(self) -> None:
        """Start publishing in the background."""
        self._task = asyncio.create_task(self._run(), name="prober:signalling")

    def put(self, key: str, event: ProbeSignallingV1) -> None:
        """Queue one call's signalling; raises if publishing has failed for good."""
        if self.failed.done():
            raise RuntimeError("publishing the signalling failed; the prober is stopping")
        self._queue.append((key, event))
        self._idle.clear()
        self._wake.set()

    @property
    def pending(self) -> int:
        """Events handed over and not yet acknowledged by the broker."""
        return len(self._queue) if self._idle.is_set() else max(1, len(self._queue))

    async def flush(self) -> None:
        """Until everything handed over so far is on the broker (or publishing failed)."""
        waiter: asyncio.Future[object] = asyncio.ensure_future(self._idle.wait())
        failed: asyncio.Future[object] = asyncio.shield(self.failed)
        await asyncio.wait({waiter, failed}, return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()

    async def close(self) -> None:
        """Publish what is queued, then stop."""
        self._closing = True
        self._wake.set()
        if self._task is not None:
            with contextlib.suppress(Exception):
                await self._task

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._queue:
                batch, self._queue = self._queue, []
                try:
                    await self._publish(batch)
                except Exception as exc:
                    log.error("signalling_publish_failed", events=len(batch), error=repr(exc))
                    self.failed.set_result(None)
                    self._idle.set()
                    raise
            self._idle.set()
            if self._closing:
                return

    async def _publish(self, batch: list[tuple[str, ProbeSignallingV1]]) -> None:
        delay = 0.2
        for attempt in range(1, self._attempts + 1):
            try:
                await self._publisher.publish_many(PROBE_SIGNALLING, batch)
                return
            except Exception as exc:
                if attempt == self._attempts:
                    raise
                self._on_retry(attempt, exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._backoff_max)
