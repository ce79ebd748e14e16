"""Counters converge after a crash between a lead's write and its batch's `$inc`, and a
batch whose last verdict was so lost still finishes (docs/invariants.md I5, I6)."""

from __future__ import annotations

import asyncio

import structlog

from lc_ingest.domain.batch import ACTIVE_STATUSES, PAUSED_STATUSES, drifted_counters
from lc_ingest.lifecycle import BatchLifecycle
from lc_ingest.ports import IngestStore

log = structlog.get_logger(__name__)


class CounterReconciler:
    """Now and then, compares each open batch's verdict counters with its leads' states.

    A drift is corrected only when two passes in a row saw the same one on unchanged
    counters: a verdict between its lead write and its `$inc` is not a drift.
    """

    def __init__(self, store: IngestStore, lifecycle: BatchLifecycle, interval: float) -> None:
        self._store = store
        self._lifecycle = lifecycle
        self._interval = interval
        # Per batch, the counter drift the last pass saw.
        self._drift: dict[str, dict[str, int]] = {}

    async def run(self) -> None:
        """Reconcile open batches every `interval` seconds, forever."""
        while True:
            await asyncio.sleep(self._interval)
            await self.reconcile_once()

    async def reconcile_once(self) -> None:
        """One pass over the batches whose import is done and which may still move."""
        seen: dict[str, dict[str, int]] = {}
        for batch in await self._store.batches_with_status([*ACTIVE_STATUSES, *PAUSED_STATUSES]):
            if not batch.import_done:
                continue
            drift = drifted_counters(batch, await self._store.count_states(batch.id))
            if drift:
                key = {**batch.counters.as_dict(), **{f"to_{k}": v for k, v in drift.items()}}
                if self._drift.get(batch.id) == key:
                    log.warning("batch_counters_corrected", batch_id=batch.id, **drift)
                    await self._store.update_batch(
                        batch.id, drift, expected_counters=batch.counters
                    )
                else:
                    seen[batch.id] = key
            await self._lifecycle.finish_if_done(batch.id)
        self._drift = seen
