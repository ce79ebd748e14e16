"""Gathers events handled concurrently into one bulk operation.

The consumer runner handles many events of a topic at once (`concurrency`); each
handler call parks its event here and waits until the bulk operation that holds
it is done, or failed (then the runner retries that event). One write of many
documents costs the store little more than a write of one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

import structlog

E = TypeVar("E")
_PER_EVENT_KEYS = (
    "topic",
    "partition",
    "offset",
    "event_id",
    "batch_id",
    "lead_id",
    "account_id",
    "trunk",
    "probe_id",
    "attempt",
)


class Coalescer(Generic[E]):
    """Runs `apply(batch)` on events gathered for up to `linger` seconds or `max_items`."""

    def __init__(
        self,
        apply: Callable[[Sequence[E]], Awaitable[None]],
        max_items: int,
        linger: float = 0.01,
    ) -> None:
        self._apply = apply
        self._max = max_items
        self._linger = linger
        self._pending: list[tuple[E, asyncio.Future[None]]] = []
        self._timer: asyncio.TimerHandle | None = None
        self._flushes: set[asyncio.Task[None]] = set()

    async def handle(self, event: E) -> None:
        """Add one event; return once it has been applied."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((event, future))
        if len(self._pending) >= self._max:
            self._flush_soon(0)
        elif self._timer is None:
            self._flush_soon(self._linger)
        await future

    def _flush_soon(self, delay: float) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = asyncio.get_running_loop().call_later(delay, self._start_flush)

    def _start_flush(self) -> None:
        task = asyncio.get_running_loop().create_task(self._flush())
        self._flushes.add(task)
        task.add_done_callback(self._flushes.discard)

    async def _flush(self) -> None:
        # This task inherited the context of one handler call; its ids would be
        # wrong on the logs of the whole bulk (this unbinds them in this task only).
        structlog.contextvars.unbind_contextvars(*_PER_EVENT_KEYS)
        self._timer = None
        batch, self._pending = self._pending, []
        if not batch:
            return
        try:
            await self._apply([event for event, _ in batch])
        except Exception as exc:
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        for _, future in batch:
            if not future.done():
                future.set_result(None)
