"""Batch lifecycle: every status change is made here and announced on `batch.events`.

`Importing → Queued → Running ⇄ Paused → Finished → Deleted`, plus `Failed` and
`Paused (no credit)`. Changes are compare-and-set on the current status, so a
redelivered event or a double click changes nothing twice. Each change writes the
`BatchEventV1` announcing it into the batch's outbox in the same single-document
write (docs/invariants.md I7); the outbox relay publishes it, so a crash between
the change and its announcement delays the event and never loses it.

Failed: only a file that cannot be read fails a batch (a store or broker error
during the import is retried, and the import resumes after a restart). Its
counters stay exact rather than frozen: Accepted counts the accepted rows that
were stored, Processed the leads that reached a final verdict before the
scheduler dropped the rest on `failed`, Remaining the accepted leads never
finalised; a late verdict of a call already in flight still moves them together.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import structlog

from lc_common.clock import Clock
from lc_common.events import BatchEventV1
from lc_common.http import ServiceError
from lc_ingest.domain.batch import (
    ACTIVE_STATUSES,
    Batch,
    NotExpired,
    PauseRefused,
    after_import,
    after_pause_request,
    credit_paused,
    credit_resumed,
    deletion_fields,
    failure_fields,
    finish_if_done,
    import_completed_fields,
    status_fields,
)
from lc_ingest.metrics import BATCH_TRANSITIONS
from lc_ingest.ports import IngestStore

log = structlog.get_logger(__name__)


class BatchLifecycle:
    """Moves batches between statuses and tells the other services (via the outbox)."""

    def __init__(
        self, store: IngestStore, clock: Clock, wake_relay: Callable[[], None] = lambda: None
    ) -> None:
        self._store = store
        self._clock = clock
        self._wake_relay = wake_relay

    def _event(self, batch: Batch, kind: str, reason: str | None = None) -> BatchEventV1:
        return BatchEventV1(
            account_id=batch.account_id,
            batch_id=batch.id,
            kind=kind,
            name=batch.name,
            reference=batch.reference,
            reason=reason,
            occurred_at=self._clock.now(),
        )

    async def _change(
        self,
        batch: Batch,
        fields: dict[str, object],
        kind: str,
        *,
        reason: str | None = None,
        unchanged_counters: bool = False,
    ) -> Batch | None:
        """Set fields and announce `kind` in one write, if the batch is still in the status
        it was read in (and, if asked, still has the counters it was read with); the batch
        after, or None if it changed meanwhile."""
        updated = await self._store.update_batch(
            batch.id,
            fields,
            only_if_status=[batch.status],
            expected_counters=batch.counters if unchanged_counters else None,
            announce=self._event(batch, kind, reason),
        )
        if updated is not None:
            BATCH_TRANSITIONS.labels(kind).inc()
            log.info("batch_" + kind, batch_id=batch.id, status=updated.status, reason=reason)
            self._wake_relay()
        return updated

    async def complete_import(self, batch_id: str) -> None:
        """The import is done: queue the batch, or keep it paused if it was paused while
        importing, or wait for credit if the account has none; finish it at once if
        nothing was accepted."""
        while True:
            batch = await self._store.get_batch(batch_id)
            if batch is None:
                return
            exhausted = await self._store.credit_state(batch.account_id) == "exhausted"
            to = after_import(batch, exhausted)
            if to is None:
                return
            fields = import_completed_fields(batch, to, self._clock.now())
            if await self._change(batch, fields, to.kind) is not None:
                break
        await self.settle_credit(batch.account_id)
        await self.finish_if_done(batch_id)

    async def fail(self, batch_id: str, reason: str) -> None:
        """The file could not be imported: the batch fails with a reason the client can act
        on; `failed` tells the scheduler to drop its leads."""
        batch = await self._store.get_batch(batch_id)
        if batch is None:
            return
        fields = failure_fields(batch, reason, self._clock.now())
        if fields is not None:
            await self._change(batch, fields, "failed", reason=reason)

    async def set_paused(self, batch: Batch, paused: bool) -> Batch:
        """Pause or unpause at the client's request; pausing a paused batch announces
        `paused` again."""
        try:
            to = after_pause_request(batch, paused)
        except PauseRefused as exc:
            raise ServiceError(409, exc.code, exc.message) from exc
        if to is None:
            return batch
        updated = await self._change(batch, status_fields(batch, to, self._clock.now()), to.kind)
        if updated is None:
            raise ServiceError(409, "conflict", "The batch changed meanwhile; try again.")
        if not paused:
            await self.settle_credit(batch.account_id)
            return await self._store.get_batch(batch.id) or updated
        return updated

    async def mark_running(self, batch_id: str) -> None:
        """The first verdict came in."""
        await self._store.update_batch(batch_id, {"status": "running"}, only_if_status=["queued"])

    async def finish_if_done(self, batch_id: str) -> bool:
        """Mark the batch finished (once) if its import is complete and every accepted lead
        is final, by its counters and by its leads' states."""
        batch = await self._store.get_batch(batch_id)
        if batch is None or not batch.finishable:
            return False
        states = await self._store.count_states(batch_id)
        fields = finish_if_done(batch, states, self._clock.now())
        if fields is None:
            return False
        # Only if the counters are still those read: a verdict landing meanwhile re-checks.
        return await self._change(batch, fields, "finished", unchanged_counters=True) is not None

    async def settle_credit(self, account_id: str) -> None:
        """Bring the account's batches in line with its last known credit state."""
        state = await self._store.credit_state(account_id)
        if state == "exhausted":
            await self.pause_for_credit(account_id)
        elif state == "restored":
            await self.resume_after_credit(account_id)

    async def pause_for_credit(self, account_id: str) -> None:
        """Credit ran out: every active batch of the account waits for credit."""
        for batch in await self._store.batches_with_status(ACTIVE_STATUSES, account_id):
            to = credit_paused()
            await self._change(batch, status_fields(batch, to, self._clock.now()), to.kind)

    async def resume_after_credit(self, account_id: str) -> None:
        """Credit is back: batches paused for credit run again."""
        for batch in await self._store.batches_with_status(["paused_no_credit"], account_id):
            to = credit_resumed(batch)
            await self._change(batch, status_fields(batch, to, self._clock.now()), to.kind)

    async def delete_expired(self, batch_id: str, expired_before: datetime) -> Batch | None:
        """Retention ran out (the scheduler keeps that clock): mark Deleted, purge the leads.

        Only a finished, failed or paused batch whose retention started before
        `expired_before` by ingest's own record is deleted; otherwise
        `ServiceError(409)` (it was resumed meanwhile). Idempotent: a deleted batch
        is purged again (a crash may have come between mark and purge) and returned.
        None if there is no such batch.
        """
        batch = await self._store.get_batch(batch_id)
        if batch is None:
            return None
        if batch.status == "deleted":
            await self._store.purge_leads(batch_id)
            return batch
        try:
            fields = deletion_fields(batch, expired_before, self._clock.now())
        except NotExpired as exc:
            raise ServiceError(
                409, "not_expired", "The batch's retention has not run out."
            ) from exc
        # Marked first, so no download sees a half-purged batch: it answers 410 from now on.
        updated = await self._change(batch, fields, "deleted")
        if updated is None:
            raise ServiceError(409, "conflict", "The batch changed meanwhile; try again.")
        purged = await self._store.purge_leads(batch_id)
        log.info("batch_purged", batch_id=batch_id, leads=purged)
        return updated
