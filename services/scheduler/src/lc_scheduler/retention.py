"""Retention: a batch is deleted a while (42 days) after it finishes, fails or is paused.

The scheduler keeps the clock (it follows `batch.events`); ingest owns the data.
When a batch's time is up the scheduler asks ingest to delete it; ingest checks
the batch is still expired by its own record, marks it Deleted, purges its
leads and announces `deleted` on `batch.events`. The scheduler then drops its
own entries of the batch (at once, and again, idempotently, on the event).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta

import structlog

from lc_common.clock import Clock
from lc_scheduler import metrics
from lc_scheduler.domain.batches import retention_due
from lc_scheduler.handlers import BatchEvents
from lc_scheduler.ports import BatchDeleter
from lc_scheduler.schedule import Schedule

log = structlog.get_logger(__name__)


@dataclass
class Retention:
    """Finds batches whose retention ran out and has ingest delete them."""

    schedule: Schedule
    batch_events: BatchEvents
    ingest: BatchDeleter
    clock: Clock
    keep: timedelta
    interval: timedelta

    async def run_once(self) -> list[str]:
        """One pass; the ids of the batches deleted."""
        now = self.clock.now()
        async with self.schedule.transaction() as tx:
            due = [r for r in tx.batches() if retention_due(r, now, self.keep)]
        deleted = []
        for record in due:
            try:
                outcome = await self.ingest.delete_batch(
                    record.batch_id, record.account_id, now - self.keep
                )
            except Exception as exc:  # ingest down: asked again at the next pass
                log.warning("retention_delete_failed", batch_id=record.batch_id, error=repr(exc))
                continue
            metrics.RETENTION_REQUESTS.labels(outcome).inc()
            if outcome == "not_expired":
                # ingest saw a resume we have not read yet; its event will stop our clock.
                log.info("retention_refused", batch_id=record.batch_id)
                continue
            await self.batch_events.forget(record.batch_id, record.account_id)
            deleted.append(record.batch_id)
            log.info("retention_deleted", batch_id=record.batch_id, outcome=outcome)
        return deleted

    async def run(self) -> None:
        """Passes until cancelled."""
        while True:
            await self.run_once()
            await asyncio.sleep(self.interval.total_seconds())
