"""The `Single` strategy's loop: each event in its own task, up to `concurrency` at once."""

from __future__ import annotations

import asyncio
import time

from aiokafka import TopicPartition

from lc_common.consuming.flight import Session

_POLL_MS = 200


class SingleLoop:
    """Fetches what there is room for and launches one task per event."""

    commits_done = True

    def __init__(self, session: Session, concurrency: int) -> None:
        self._session = session
        self._concurrency = concurrency
        self._slots = asyncio.Semaphore(concurrency)

    async def run(self) -> None:
        """Take and handle events until cancelled; raise the first permanent failure."""
        session, flight = self._session, self._session.flight
        last_commit = time.monotonic()
        while True:
            flight.raise_if_failed()
            free = self._concurrency - len(flight.tasks)
            batches = await session.fetch(_POLL_MS, max(1, free))
            for tp, records in batches.items():
                for record in records:
                    await self._slots.acquire()
                    if flight.fatal is not None:
                        self._slots.release()
                        raise flight.fatal
                    task = flight.launch([(tp, record.offset)], session.records.handle(tp, record))
                    task.add_done_callback(lambda _: self._slots.release())
            if self._concurrency == 1 and flight.tasks:
                await asyncio.gather(*flight.tasks, return_exceptions=True)
            if time.monotonic() - last_commit > 0.5 or not flight.tasks:
                await session.commit()
                last_commit = time.monotonic()

    def assigned(self, partitions: set[TopicPartition]) -> None:
        """Nothing to open: events are bounded for the whole consumer."""

    def hold(self) -> None:
        """Nothing waits to start: fetched events are started at once."""

    def revoked(self, partitions: set[TopicPartition]) -> None:
        """Nothing is kept per partition."""
