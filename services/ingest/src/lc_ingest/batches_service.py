"""Batch lifecycle: every status change is made here and announced on `batch.events`.

`Importing → Queued → Running ⇄ Paused → Finished → Deleted`, plus `Failed` and
`Paused (no credit)`. Changes are compare-and-set on the current status, so a
redelivered event or a double click changes nothing twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import structlog

from lc_common.clock import Clock
from lc_common.events import BATCH_EVENTS, BatchEventKind, BatchEventV1
from lc_common.kafka import Publisher
from lc_common.store import to_store_time
from lc_ingest.adapters.store import IngestStore
from lc_ingest.batches import (
    ACTIVE_STATUSES,
    COUNTERS,
    OPEN_LEAD_STATES,
    PAUSED_STATUSES,
    RETENTION_STATUSES,
)
from lc_ingest.errors import ClientError
from lc_ingest.metrics import BATCH_TRANSITIONS

log = structlog.get_logger(__name__)

Doc = dict[str, Any]


class BatchLifecycle:
    """Moves batches between statuses and tells the other services."""

    def __init__(self, store: IngestStore, publisher: Publisher, clock: Clock) -> None:
        self._store = store
        self._publisher = publisher
        self._clock = clock

    def _now(self) -> str:
        return to_store_time(self._clock.now())

    async def _announce(self, batch: Doc, kind: BatchEventKind, reason: str | None = None) -> None:
        BATCH_TRANSITIONS.labels(kind).inc()
        log.info("batch_" + kind, batch_id=batch["_id"], reason=reason)
        await self._publisher.publish(
            BATCH_EVENTS,
            BatchEventV1(
                account_id=batch["account_id"],
                batch_id=batch["_id"],
                kind=kind,
                name=batch["name"],
                reference=batch["reference"],
                reason=reason,
                occurred_at=self._clock.now(),
            ),
            key=batch["_id"],
        )

    async def queue(self, batch_id: str) -> None:
        """The import is done: queue the batch (or finish it at once if nothing was accepted)."""
        batch = await self._store.update_batch(
            batch_id, {"status": "queued"}, only_if_status=["importing"]
        )
        if batch is None:
            return
        await self._announce(batch, "queued")
        if batch["accepted"] == 0:
            await self.finish_if_done(batch_id)

    async def fail(self, batch: Doc, reason: str) -> None:
        """The file could not be imported: the batch fails with a reason the client can act on."""
        updated = await self._store.update_batch(
            batch["_id"],
            {"status": "failed", "failure_reason": reason, "retention_from": self._now()},
            only_if_status=["importing"],
        )
        if updated is not None:
            await self._announce(updated, "failed", reason)

    async def set_paused(self, batch: Doc, paused: bool) -> Doc:
        """Pause or unpause at the client's request."""
        status = batch["status"]
        if paused and status in (*ACTIVE_STATUSES, "importing"):
            target, kind = "paused", "paused"
        elif paused and status in PAUSED_STATUSES:
            return batch
        elif not paused and status == "paused":
            target, kind = ("running" if self._started(batch) else "queued"), "resumed"
        elif not paused and status == "paused_no_credit":
            raise ClientError(
                409, "no_credit", "The batch resumes by itself once credit is bought."
            )
        elif not paused and status in (*ACTIVE_STATUSES, "importing"):
            return batch
        else:
            raise ClientError(409, "batch_closed", f"A {status} batch cannot be paused or resumed.")
        fields: Doc = {"status": target}
        fields["retention_from"] = self._now() if paused else None
        updated = await self._store.update_batch(batch["_id"], fields, only_if_status=[status])
        if updated is None:
            raise ClientError(409, "conflict", "The batch changed meanwhile; try again.")
        await self._announce(updated, kind)  # type: ignore[arg-type]
        return updated

    @staticmethod
    def _started(batch: Doc) -> bool:
        return any(batch[c] for c in ("connected", "disconnected", "indeterminate", "retry"))

    async def mark_running(self, batch_id: str) -> None:
        """The first verdict came in."""
        await self._store.update_batch(batch_id, {"status": "running"}, only_if_status=["queued"])

    async def finish_if_done(self, batch_id: str) -> bool:
        """Recount the batch's leads; if none is open any more, mark it finished (once)."""
        batch = await self._store.get_batch(batch_id)
        if batch is None or batch["status"] in ("finished", "failed", "deleted", "importing"):
            return False
        states = await self._store.count_states(batch_id)
        counters = {
            "connected": states.get("connected", 0),
            "disconnected": states.get("disconnected", 0),
            "indeterminate": states.get("indeterminate", 0),
            "retry": states.get("retry", 0),
        }
        if any(states.get(s, 0) for s in OPEN_LEAD_STATES):
            await self._store.update_batch(batch_id, counters)
            return False
        now = self._now()
        updated = await self._store.update_batch(
            batch_id,
            {**counters, "status": "finished", "finished_at": now, "retention_from": now},
            only_if_status=[batch["status"]],
        )
        if updated is None:
            return False
        await self._announce(updated, "finished")
        return True

    async def pause_for_credit(self, account_id: str) -> None:
        """Credit ran out: every active batch of the account waits for credit."""
        for batch in await self._store.batches_with_status(ACTIVE_STATUSES, account_id=account_id):
            updated = await self._store.update_batch(
                batch["_id"],
                {"status": "paused_no_credit", "retention_from": self._now()},
                only_if_status=[batch["status"]],
            )
            if updated is not None:
                await self._announce(updated, "credit_paused")

    async def resume_after_credit(self, account_id: str) -> None:
        """Credit is back: batches paused for credit run again."""
        for batch in await self._store.batches_with_status(
            ["paused_no_credit"], account_id=account_id
        ):
            target = "running" if self._started(batch) else "queued"
            updated = await self._store.update_batch(
                batch["_id"],
                {"status": target, "retention_from": None},
                only_if_status=["paused_no_credit"],
            )
            if updated is not None:
                await self._announce(updated, "credit_resumed")

    async def delete_expired(self, batch_id: str, expired_before: datetime) -> Doc | None:
        """Retention ran out (the scheduler keeps that clock): mark Deleted, purge the leads.

        Only a finished, failed or paused batch whose retention started before
        `expired_before` by ingest's own record is deleted; otherwise
        `ClientError(409)` (it was resumed meanwhile). Idempotent: a deleted batch
        is purged again (a crash may have come between mark and purge) and returned.
        None if there is no such batch.
        """
        batch = await self._store.get_batch(batch_id)
        if batch is None:
            return None
        if batch["status"] == "deleted":
            await self._store.purge_leads(batch_id)
            return batch
        started = batch.get("retention_from")
        if (
            batch["status"] not in RETENTION_STATUSES
            or started is None
            or started >= to_store_time(expired_before)
        ):
            raise ClientError(409, "not_expired", "The batch's retention has not run out.")
        # Marked first, so no download sees a half-purged batch: it answers 410 from now on.
        updated = await self._store.update_batch(
            batch_id,
            {"status": "deleted", "deleted_at": self._now()},
            only_if_status=[batch["status"]],
        )
        if updated is None:
            raise ClientError(409, "conflict", "The batch changed meanwhile; try again.")
        purged = await self._store.purge_leads(batch_id)
        log.info("batch_purged", batch_id=batch_id, leads=purged)
        await self._announce(updated, "deleted")
        return updated


def new_batch_counters() -> dict[str, int]:
    """Every counter at zero."""
    return dict.fromkeys(COUNTERS, 0)
