"""The `Bulk` strategy's loop: what one fetch returns, handled in one call.

For a topic whose events are applied in bulk anyway (the scheduler stores the
leads of `leads.accepted` a thousand at a time), a task, a retry loop and bound
log context per event cost more than the work.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from aiokafka import TopicPartition

from lc_common.consuming.flight import Session
from lc_common.consuming.strategies import Bulk

_POLL_MS = 200


class BulkLoop:
    """Fetches up to `max_bulk` events and launches one task per fetch, `pipeline` at most."""

    commits_done = True

    def __init__(self, session: Session, bulk: Bulk[Any]) -> None:
        self._session = session
        self._bulk = bulk

    async def run(self) -> None:
        """Take and handle bulks until cancelled; raise the first permanent failure."""
        session, flight, bulk = self._session, self._session.flight, self._bulk
        # Up to `pipeline` bulks at once: the next is decoded and checked (and the
        # handler may prepare it) while the store writes the previous one.
        last_commit = time.monotonic()
        while True:
            flight.raise_if_failed()
            if len(flight.tasks) >= bulk.pipeline:
                await asyncio.wait(flight.tasks, return_when=asyncio.FIRST_COMPLETED)
                continue
            batches = await session.fetch_fairly(_POLL_MS, bulk.max_bulk)
            records = [record for rs in batches.values() for record in rs]
            if records:
                offsets = [(tp, r.offset) for tp, rs in batches.items() for r in rs]
                flight.launch(
                    offsets,
                    session.records.process_bulk(bulk, records),
                    failed_event="bulk_failed_permanently",
                )
            if time.monotonic() - last_commit > 0.5:
                await session.commit()
                last_commit = time.monotonic()

    def assigned(self, partitions: set[TopicPartition]) -> None:
        """Nothing to open: bulks are bounded for the whole consumer."""

    def hold(self) -> None:
        """Nothing waits to start: a fetched bulk is started at once."""

    def revoked(self, partitions: set[TopicPartition]) -> None:
        """Nothing is kept per partition."""
