"""`batch.events`: pause, resume, credit pause and resume, retention clock; failure and
deletion close the batch. Retention's own deletes go the same way (`forget`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import structlog

from lc_common.clock import Clock
from lc_common.events import BatchEventV1
from lc_scheduler import metrics
from lc_scheduler.domain import entries as transitions
from lc_scheduler.domain.batches import BatchRecord, after_batch_event
from lc_scheduler.schedule import Schedule, Transaction

log = structlog.get_logger(__name__)


@dataclass
class BatchEvents:
    """Applies a batch's changes to its record and, when it stops or closes, its entries."""

    schedule: Schedule
    clock: Clock
    pause_requeue_after: timedelta = timedelta(seconds=90)
    # Called once a batch closed (failed, deleted): its reservations await release.
    on_closed: Callable[[], None] = field(default=lambda: None)

    async def handle(self, event: BatchEventV1) -> None:
        """Apply one batch event; idempotent, an older event never undoes a newer one.

        A closed batch's entries are dropped (probes out may still answer; their
        verdicts find no entry) and its reservations released (`credit`). A pause
        voids the batch's probes dispatched at or before it (the prober drops their
        requests, `lc_prober.domain.pauses`): their leads are queued again, reservations
        kept, due `pause_requeue_after` after the pause, so that a call a prober
        started before it learnt of the pause has answered first (its verdict closes
        or advances the entry). Applied on every delivery of the pause.
        """
        async with self.schedule.transaction() as tx:
            if event.kind == "paused":
                await self._void_paused(tx, event.batch_id, event.occurred_at)
            new = await self._apply(
                tx, event.batch_id, event.account_id, event.kind, event.occurred_at
            )
        if new is not None:
            log.info("batch_event_applied", kind=event.kind, dispatchable=new.dispatchable)

    async def forget(self, batch_id: str, account_id: str) -> None:
        """The batch is gone (retention): forget it and drop its dispatch entries."""
        async with self.schedule.transaction() as tx:
            await self._apply(tx, batch_id, account_id, "deleted", self.clock.now())

    async def _apply(
        self, tx: Transaction, batch_id: str, account_id: str, kind: str, at: datetime
    ) -> BatchRecord | None:
        record = tx.batch(batch_id) or BatchRecord(
            batch_id, account_id, created_at=self.clock.now(), active=False
        )
        new = after_batch_event(record, kind, at)
        if new is None:
            return None
        await tx.save_batches([new])
        if new.closed:
            dropped = await tx.drop_batch(batch_id)
            self.on_closed()
            log.info("batch_closed", batch_id=batch_id, dropped=len(dropped))
        return new

    async def _void_paused(self, tx: Transaction, batch_id: str, paused_at: datetime) -> None:
        due = paused_at + self.pause_requeue_after
        voided = [
            v
            for e in tx.open_entries(batch_id)
            if (v := transitions.voided_by_pause(e, paused_at, due)) is not None
        ]
        await tx.commit(voided)
        if voided:
            metrics.PAUSE_VOIDED.inc(len(voided))
            log.info("paused_probes_voided", batch_id=batch_id, count=len(voided))
