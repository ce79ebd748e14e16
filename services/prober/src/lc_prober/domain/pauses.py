"""Pauses: requests of a batch paused after their dispatch are void, never dialled.

A client's pause must stop the calls of its batch within seconds, also those whose
requests already wait in a trunk's topic. The rule, shared with the scheduler
(`lc_scheduler.handlers`, `domain.entries.voided_by_pause`): a probe request
dispatched at or before its batch's latest `paused` event (`occurred_at`) is
void. The prober drops it without a call and publishes nothing; the scheduler,
which applies the same pause, queues the lead again (same attempt, reservation
kept) for once the batch is resumed. Both sides compare the same two instants,
so a request is either dialled here or queued again there, never both.

The pauses are read from `batch.events` by `lc_prober.adapters.pauses.read_pauses`,
which sets `caught_up` once it has read up to the end offsets it found at start.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from lc_common.events import BatchEventV1, ProbeRequestV1


class Pauses:
    """The latest pause of each batch, and whether a request is void by it."""

    def __init__(self) -> None:
        self._paused_at: dict[str, datetime] = {}
        self.caught_up = asyncio.Event()

    def apply(self, event: BatchEventV1) -> None:
        """Remember a `paused` event (the latest per batch); other kinds change nothing."""
        if event.kind != "paused":
            return
        known = self._paused_at.get(event.batch_id)
        if known is None or event.occurred_at > known:
            self._paused_at[event.batch_id] = event.occurred_at

    def voids(self, request: ProbeRequestV1) -> bool:
        """True if the request was dispatched at or before its batch's latest pause."""
        paused_at = self._paused_at.get(request.batch_id)
        return (
            paused_at is not None
            and request.dispatched_at is not None
            and request.dispatched_at <= paused_at
        )
